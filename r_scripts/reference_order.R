#!/usr/bin/env Rscript
# Reference order from R itself: the independent oracle the Python tests compare with.
#
# Usage:
#   Rscript reference_order.R MATRIX.bin N DISTANCE LINKAGE OUT.csv
#
# MATRIX.bin  N*N little-endian float64 values of the similarity matrix, row by row
#             (binary, so R sees exactly the doubles Python has: no decimal round trip)
# DISTANCE    1-r | 1-|r| | sqrt(2(1-r)) | euclidean
# LINKAGE     any hclust() method: complete, average, single, ward.D, ward.D2, ...
# OUT.csv     one row per merge step: merge1, merge2, height (%.17g), order
#             (the order column holds the 1-based leaf order; its row count is N, so the
#             last row has NA merge and height)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 5) stop("usage: reference_order.R MATRIX.bin N DISTANCE LINKAGE OUT.csv")
n <- as.integer(args[2])
con <- file(args[1], "rb")
values <- readBin(con, "double", n = n * n, size = 8, endian = "little")
close(con)
if (length(values) != n * n) stop("expected ", n * n, " doubles in ", args[1])
M <- matrix(values, n, n, byrow = TRUE)

d <- switch(args[3],
  "1-r" = as.dist(1 - M),
  "1-|r|" = as.dist(1 - abs(M)),
  "sqrt(2(1-r))" = as.dist(sqrt(2 * (1 - M))),
  "euclidean" = dist(M),
  stop("unknown distance ", args[3])
)
h <- hclust(d, method = args[4])

out <- data.frame(
  merge1 = c(h$merge[, 1], NA),
  merge2 = c(h$merge[, 2], NA),
  height = c(sprintf("%.17g", h$height), NA),
  order = h$order
)
write.csv(out, args[5], row.names = FALSE, quote = FALSE)
