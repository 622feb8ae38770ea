"""``accelscope.zoo``: the named models (implementation in ``accelscope.workload.zoo``)."""

from accelscope.workload.zoo import ZooModel, describe, get, names

__all__ = ["ZooModel", "describe", "get", "names"]
