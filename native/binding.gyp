{
  "targets": [
    {
      "target_name": "leakhound_native",
      "sources": ["hyperscan_set.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lhs"]
    }
  ]
}
