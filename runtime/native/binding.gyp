{
  "targets": [
    {
      "target_name": "kernels",
      "sources": ["addon.c", "grid-cells.c", "grid-measures.c", "mask-runs.c", "resize-input.c"],
      "cflags": ["-ffp-contract=off", "-std=c11"]
    }
  ]
}
