# Read a blocks-rx export into R, without installing anything.
#
#   source("/path/to/r_scripts/read_blocks.R")   # from any working directory
#   x <- read_blocks("result/blocks.rds")        # written by: blocks-rx export result --format rds
#   x <- read_blocks("result/r-export")          # written by: blocks-rx export result --format csv
#   x; summary(x); plot(x); cutree(x, k = 5); ordered_similarity(x)
#
# Or from a shell, to print what an export holds:  Rscript r_scripts/read_blocks.R PATH
#
# This script loads the code of the blocksrx R package that lies next to it
# (r_scripts/blocksrx; `make setup` also installs it, and then library(blocksrx) gives the
# same functions), or the installed package when that code is not there. The object is a
# list of class "blocks_rx": similarity (matrix with dimnames), classes, order (1-based),
# hclust (an R hclust object, when the ordering has a tree), groups / memberships (when
# present), provenance. The CSV + JSON form needs the jsonlite package (Debian:
# r-cran-jsonlite).

local({
  # This file's folder: source() keeps the file's name in its frame (the innermost such
  # frame is the source() of this file); under `Rscript read_blocks.R` it is --file=.
  script <- NULL
  for (frame in rev(sys.frames())) {
    if (is.character(frame$ofile)) {
      script <- frame$ofile
      break
    }
  }
  if (is.null(script)) {
    script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))[1]
  }
  # source(chdir = TRUE) has already moved into the script's folder.
  folders <- c(if (!is.na(script)) dirname(script), getwd())
  pkg <- file.path(folders, "blocksrx")
  pkg <- pkg[file.exists(file.path(pkg, "NAMESPACE"))][1]

  if (!is.na(pkg)) {
    pkg <- normalizePath(pkg)
    # The package's functions in an environment of their own; the exported ones copied to
    # the global environment and the S3 methods registered, as library() would do.
    env <- new.env(parent = globalenv())
    for (file in sort(list.files(file.path(pkg, "R"), pattern = "\\.R$", full.names = TRUE))) {
      sys.source(file, envir = env, keep.source = FALSE)
    }
    namespace <- parseNamespaceFile(basename(pkg), dirname(pkg))
    for (name in namespace$exports) assign(name, get(name, envir = env), envir = globalenv())
    methods <- namespace$S3methods
    for (i in seq_len(nrow(methods))) {
      generic <- methods[i, 1]
      name <- paste(generic, methods[i, 2], sep = ".")
      if (exists(generic, envir = env, inherits = FALSE)) {
        # A generic of the package's own (cutree): R looks for its methods where it is
        # called, which ends in the global environment.
        assign(name, get(name, envir = env), envir = globalenv())
      } else {
        registerS3method(generic, methods[i, 2], get(name, envir = env), envir = env)
      }
    }
  } else if (requireNamespace("blocksrx", quietly = TRUE)) {
    library("blocksrx", character.only = TRUE)
  } else {
    stop("read_blocks.R: the blocksrx R code is neither next to this script (blocksrx/ in ",
         paste(unique(folders), collapse = " or "), ") nor installed ",
         "(R CMD INSTALL r_scripts/blocksrx)", call. = FALSE)
  }
})

if (sys.nframe() == 0L) {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) != 1L) stop("usage: Rscript read_blocks.R PATH (an .rds file or export folder)")
  print(read_blocks(args[1]))
}
