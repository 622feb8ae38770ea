// The page's own script: draws each figure with Plotly from the JSON beside it, sorts and
// filters tables, opens the collapsed sections for printing. No charting of its own.
(function () {
  "use strict";
  var config = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"]};
  var plots = Array.prototype.slice.call(document.querySelectorAll("div.plot[data-figure]"));
  plots.forEach(function (div) {
    var spec = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
    Plotly.newPlot(div, spec.data, spec.layout, config).then(function () {
      div.setAttribute("data-rendered", "1");
    });
  });

  function cellValue(row, col, numeric) {
    var td = row.children[col];
    if (!td) { return numeric ? -Infinity : ""; }
    var v = td.getAttribute("data-v");
    if (numeric) {
      var x = v === null ? NaN : parseFloat(v);
      return isNaN(x) ? -Infinity : x;
    }
    return (v === null ? td.textContent : v).trim().toLowerCase();
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var col = parseInt(button.getAttribute("data-col"), 10);
        var numeric = button.getAttribute("data-type") === "num";
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var count = document.querySelector('[data-count-for="' + table.id + '"]');
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var text = r.textContent.toLowerCase();
        var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
        r.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + table.tBodies[0].rows.length + " rows"; }
    });
  });

  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("open", ""); opened.push(d);
    });
    plots.forEach(function (div) { Plotly.Plots.resize(div); });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.removeAttribute("open"); });
    opened = [];
    plots.forEach(function (div) { Plotly.Plots.resize(div); });
  });
}());
