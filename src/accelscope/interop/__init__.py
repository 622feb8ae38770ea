"""Reading and writing the files of other tools (SCALE-Sim)."""
