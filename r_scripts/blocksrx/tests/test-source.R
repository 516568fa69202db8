# read_blocks.R sourced from another working directory, without library(blocksrx): it loads
# the package's code that lies next to it, and the methods work as with the package.
source("exports.R")
scripts <- Sys.getenv("BLOCKSRX_R_SCRIPTS")
if (!nzchar(scripts)) {
  message("BLOCKSRX_R_SCRIPTS is not set (the r_scripts folder); tests/test_r_package.py sets it")
  quit(save = "no", status = 0)
}

setwd(tempdir())
source(file.path(scripts, "read_blocks.R"))
stopifnot(!isNamespaceLoaded("blocksrx"), exists("read_blocks"), exists("ordered_similarity"))

for (path in forms) {
  x <- read_blocks(path)
  stopifnot(identical(class(x), c("blocks_rx", "list")))
  out <- capture.output(x)
  stopifnot(startsWith(out[1], "<blocks_rx> "))
  stopifnot(inherits(summary(x), "summary.blocks_rx"), length(capture.output(summary(x))) > 5)
  stopifnot(identical(cutree(x, k = 3), stats::cutree(x$hclust, k = 3)),
            identical(cutree(x$hclust, k = 2), stats::cutree(x$hclust, k = 2)),
            identical(as.hclust(x), x$hclust), inherits(as.dendrogram(x), "dendrogram"))
  pdf(NULL)
  plot(x)
  invisible(dev.off())
}
expect_error(cutree(read_blocks(notree_export), k = 2), "has no tree")

# Sourced again with chdir = TRUE through a relative path: the same functions.
rm(read_blocks)
setwd(dirname(scripts))
source(file.path(basename(scripts), "read_blocks.R"), chdir = TRUE)
stopifnot(exists("read_blocks"), !isNamespaceLoaded("blocksrx"))
stopifnot(identical(class(read_blocks(csv_export)), c("blocks_rx", "list")))

cat("all checks passed\n")
