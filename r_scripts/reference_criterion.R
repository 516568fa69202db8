#!/usr/bin/env Rscript
# seriation::criterion() of given orders, computed by R alone: the oracle for the Python bridge.
#
# Usage:
#   Rscript reference_criterion.R MANIFEST.csv
#
# MANIFEST  CSV with columns matrix, n, distance, order, out; one case per row.
#   matrix    N*N little-endian float64 values of the similarity matrix, row by row
#   distance  1-r | 1-|r| | sqrt(2(1-r)) | euclidean
#   order     a text file with the 1-based order, one index per line
#   out       CSV written here: criterion, value (%.17g), for every criterion seriation
#             offers for dist objects

suppressMessages(library(seriation))

read_matrix <- function(path, n) {
  con <- file(path, "rb")
  on.exit(close(con))
  matrix(readBin(con, "double", n = n * n, size = 8, endian = "little"), n, n, byrow = TRUE)
}

distance_of <- function(M, distance) {
  switch(distance,
    "1-r" = as.dist(1 - M),
    "1-|r|" = as.dist(1 - abs(M)),
    "sqrt(2(1-r))" = as.dist(sqrt(2 * (1 - M))),
    "euclidean" = dist(M),
    stop("unknown distance ", distance)
  )
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: reference_criterion.R MANIFEST.csv")
cases <- read.csv(args[1], stringsAsFactors = FALSE)
for (i in seq_len(nrow(cases))) {
  case <- cases[i, ]
  d <- distance_of(read_matrix(case$matrix, case$n), case$distance)
  o <- ser_permutation(as.integer(readLines(case$order)))
  values <- criterion(d, o)
  write.csv(data.frame(criterion = names(values), value = sprintf("%.17g", values)),
            case$out, row.names = FALSE, quote = FALSE)
}
