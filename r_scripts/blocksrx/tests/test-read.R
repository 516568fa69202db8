# read_blocks(): both forms of an export give the same object of class blocks_rx.
library(blocksrx)
source("exports.R")

for (path in forms) {
  x <- read_blocks(path)
  n <- length(x$classes)
  stopifnot(identical(class(x), c("blocks_rx", "list")),
            identical(dimnames(x$similarity), list(x$classes, x$classes)),
            is.integer(x$order), identical(sort(x$order), seq_len(n)),
            inherits(x$hclust, "hclust"), identical(x$hclust$labels, x$classes),
            identical(x$hclust$order, x$order), is.call(x$hclust$call),
            identical(names(x$groups), x$classes),
            identical(dimnames(x$memberships),
                      list(x$classes, paste0("G", seq_len(ncol(x$memberships))))),
            identical(x$provenance$ordering$linkage, "complete"))
}

# The .rds and the CSV + JSON form hold the same content.
if ("rds" %in% names(forms)) {
  a <- read_blocks(forms[["rds"]])
  b <- read_blocks(forms[["csv"]])
  stopifnot(identical(names(a), names(b)), identical(a$classes, b$classes),
            identical(a$similarity, b$similarity), identical(a$order, b$order),
            identical(a$hclust$merge, b$hclust$merge), identical(a$hclust$height, b$hclust$height),
            identical(a$hclust$call, b$hclust$call), identical(a$groups, b$groups),
            isTRUE(all.equal(a$memberships, b$memberships, tolerance = 1e-15)))
  # readRDS() alone, without this package, gives the class too.
  stopifnot(identical(class(readRDS(forms[["rds"]])), c("blocks_rx", "list")))
}

# An .rds written before the class existed (a bare list, memberships without column
# names) gets both on read.
old <- tempfile(fileext = ".rds")
bare <- unclass(read_blocks(csv_export))
colnames(bare$memberships) <- NULL
saveRDS(bare, old)
x <- read_blocks(old)
stopifnot(identical(class(x), c("blocks_rx", "list")),
          identical(colnames(x$memberships), paste0("G", seq_len(ncol(x$memberships)))))

# Wrong inputs: errors that name the path and what is wrong.
missing <- file.path(tempdir(), "no-such-export.rds")
expect_error(read_blocks(missing), paste0(missing, ": no such file"))
expect_error(read_blocks(file.path(tempdir(), "no-such-folder")), "no-such-folder: no such file or folder")
empty <- tempfile("empty")
dir.create(empty)
expect_error(read_blocks(empty), paste0(empty, ": no blocks.json"))
# A result folder that holds an export: the error names the path that reads it.
expect_error(read_blocks(exports), paste0("read_blocks(\"", if (file.exists(rds_export))
  rds_export else csv_export, "\") reads the export it holds"))
expect_error(ordered_similarity(list()), "takes a blocks-rx export")
text <- tempfile(fileext = ".txt")
writeLines("not an export", text)
expect_error(read_blocks(text), paste0(text, ": neither an .rds file nor"))
not_rds <- tempfile(fileext = ".rds")
writeLines("not an rds", not_rds)
expect_error(read_blocks(not_rds), paste0(not_rds, ": not an .rds file R can read"))
other_rds <- tempfile(fileext = ".rds")
saveRDS(list(a = 1), other_rds)
expect_error(read_blocks(other_rds), paste0(other_rds, ": not a blocks-rx export"))

# A folder whose blocks.json names other classes than similarity.csv.
bad <- tempfile("bad")
dir.create(bad)
file.copy(list.files(csv_export, full.names = TRUE), bad)
meta <- jsonlite::fromJSON(file.path(bad, "blocks.json"))
meta$classes[1] <- "other"
jsonlite::write_json(meta, file.path(bad, "blocks.json"), auto_unbox = TRUE, digits = NA)
expect_error(read_blocks(bad), paste0(bad, ": similarity.csv and blocks.json name different classes"))

cat("all checks passed\n")

# The sample export the examples read: ten digits, its tree R's own hclust of its matrix.
sample <- read_blocks(system.file("extdata", "digits.rds", package = "blocksrx"))
again <- stats::hclust(stats::as.dist(1 - sample$similarity), method = "complete")
stopifnot(identical(sample$classes, paste("digit", 0:9)),
          identical(sample$hclust$merge, again$merge), identical(sample$hclust$order, again$order),
          isTRUE(all.equal(sample$hclust$height, again$height)),
          length(sample$groups) == 10)
