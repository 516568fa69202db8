# Shared by the reference scripts: read a matrix Python wrote, and R's distance transforms.

# N*N little-endian float64 values, row by row: binary, so R sees exactly Python's doubles.
read_matrix <- function(path, n) {
  con <- file(path, "rb")
  on.exit(close(con))
  values <- readBin(con, "double", n = n * n, size = 8, endian = "little")
  if (length(values) != n * n) stop("expected ", n * n, " doubles in ", path)
  matrix(values, n, n, byrow = TRUE)
}

# The distances blocks-rx offers, as R users write them.
distance_of <- function(M, distance) {
  switch(distance,
    "1-r" = as.dist(1 - M),
    "1-|r|" = as.dist(1 - abs(M)),
    "sqrt(2(1-r))" = as.dist(sqrt(2 * (1 - M))),
    "euclidean" = dist(M),
    stop("unknown distance ", distance)
  )
}
