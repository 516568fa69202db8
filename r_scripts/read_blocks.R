# Read a blocks-rx export into R: the same named list from an .rds file or a CSV + JSON folder.
#
#   source("r_scripts/read_blocks.R")
#   x <- read_blocks("result/blocks.rds")     # written by: blocks-rx export result --format rds
#   x <- read_blocks("result/r-export")       # written by: blocks-rx export result --format csv
#   plot(x$hclust); cutree(x$hclust, k = 5); x$similarity[x$order, x$order]
#
# Or from a shell, to print a summary:  Rscript r_scripts/read_blocks.R PATH
#
# The list: similarity (matrix with dimnames), classes, order (1-based), hclust (an R hclust
# object, when the ordering has a tree), groups / memberships (when present), provenance.
# The CSV + JSON form needs the jsonlite package (Debian: r-cran-jsonlite).
#
# Class names are kept exactly. In similarity.csv a name cell that starts with = + - @, tab,
# CR or a single quote carries one more single quote in front, so that no spreadsheet runs it
# as a formula (blocks_rx/names.py); unprotect_cells() removes it again.

# The names that CSV cells written by blocks-rx hold: one leading single quote removed.
unprotect_cells <- function(cells) sub("^'", "", cells)

read_blocks <- function(path) {
  if (grepl("\\.rds$", path, ignore.case = TRUE)) return(readRDS(path))
  if (!dir.exists(path)) stop(path, ": neither an .rds file nor an export folder")
  meta <- jsonlite::fromJSON(file.path(path, "blocks.json"), simplifyVector = TRUE)
  # Names as text, exactly: no "NA" read as missing, UTF-8 whatever the locale.
  sim <- utils::read.csv(file.path(path, "similarity.csv"), row.names = 1, check.names = FALSE,
                         colClasses = c("character", rep("numeric", length(meta$classes))),
                         na.strings = character(0), encoding = "UTF-8")
  sim <- as.matrix(sim)
  # Row names only: read.csv strips white space from header fields, so the column names
  # come from blocks.json like every other name.
  if (!identical(unprotect_cells(rownames(sim)), meta$classes)) {
    stop(path, ": similarity.csv and blocks.json name different classes")
  }
  dimnames(sim) <- list(meta$classes, meta$classes)
  out <- list(similarity = sim, classes = meta$classes, order = as.integer(meta$order))
  if (isTRUE(meta$hclust)) {
    tree <- utils::read.csv(file.path(path, "hclust.csv"))
    merge <- cbind(as.integer(tree$merge1), as.integer(tree$merge2))
    out$hclust <- structure(list(merge = merge, height = as.double(tree$height),
                                 order = as.integer(meta$order), labels = meta$classes,
                                 method = meta$linkage, call = hclust_call(meta),
                                 dist.method = meta$distance), class = "hclust")
  }
  if (!is.null(meta$groups)) out$groups <- stats::setNames(as.integer(meta$groups), meta$classes)
  if (!is.null(meta$memberships)) {
    out$memberships <- as.matrix(meta$memberships)
    rownames(out$memberships) <- meta$classes
  }
  out$provenance <- meta$provenance
  out
}

if (sys.nframe() == 0L) {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) != 1) stop("usage: Rscript read_blocks.R PATH (an .rds file or export folder)")
  x <- read_blocks(args[1])
  cat(length(x$classes), "classes; first in order:",
      paste(head(x$classes[x$order], 5), collapse = ", "), "\n")
  if (!is.null(x$hclust)) print(x$hclust)
}

# The call that builds the tree from x$similarity (R's print and plot of an hclust read it);
# exports written before blocks.json held it get one naming the linkage.
hclust_call <- function(meta) {
  if (!is.null(meta$hclust_call) && nzchar(meta$hclust_call)) return(str2lang(meta$hclust_call))
  call("hclust", d = quote(d), method = meta$linkage)
}
