#!/usr/bin/env Rscript
# Reference hclust results from R itself: the independent oracle the Python tests compare with.
#
# Usage:
#   Rscript reference_order.R MATRIX.bin N DISTANCE LINKAGE OUT.csv
#   Rscript reference_order.R MANIFEST.csv      # many cases in one R start-up
#
# MATRIX.bin  N*N little-endian float64 values of the similarity matrix, row by row
#             (binary, so R sees exactly the doubles Python has: no decimal round trip)
# DISTANCE    1-r | 1-|r| | sqrt(2(1-r)) | euclidean
# LINKAGE     any hclust() method: complete, average, single, ward.D, ward.D2, ...
# OUT.csv     N rows: merge1, merge2, height (%.17g; NA on the last row) and order (1-based)
# MANIFEST    a CSV with columns matrix, n, distance, linkage, out: one case per row

source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "common.R"))  # read_matrix(), distance_of()

reference_order <- function(matrix_file, n, distance, linkage, out_file) {
  h <- hclust(distance_of(read_matrix(matrix_file, n), distance), method = linkage)
  out <- data.frame(
    merge1 = c(h$merge[, 1], NA),
    merge2 = c(h$merge[, 2], NA),
    height = c(sprintf("%.17g", h$height), NA),
    order = h$order
  )
  write.csv(out, out_file, row.names = FALSE, quote = FALSE)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 5) {
  reference_order(args[1], as.integer(args[2]), args[3], args[4], args[5])
} else if (length(args) == 1) {
  cases <- read.csv(args[1], stringsAsFactors = FALSE, check.names = FALSE)
  for (i in seq_len(nrow(cases))) {
    with(cases[i, ], reference_order(matrix, as.integer(n), distance, linkage, out))
  }
} else {
  stop("usage: reference_order.R MATRIX.bin N DISTANCE LINKAGE OUT.csv | MANIFEST.csv")
}
