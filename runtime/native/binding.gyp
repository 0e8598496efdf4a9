{
  "targets": [
    {
      "target_name": "kernels",
      "sources": ["addon.c", "grid-cells.c", "resize-input.c"],
      "cflags": ["-ffp-contract=off", "-std=c11"]
    }
  ]
}
