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

source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "common.R"))  # read_matrix(), distance_of()

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
