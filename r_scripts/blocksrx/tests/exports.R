# Shared by the tests (source("exports.R"), run from this folder as R CMD check does): the
# exports that tests/test_r_package.py writes with blocks-rx into BLOCKSRX_TEST_EXPORTS:
#   r-export/         CSV + JSON, 12 classes, a tree, groups and memberships
#   blocks.rds        the same as .rds (written when rpy2 is there)
#   r-export-notree/  CSV + JSON of an ordering without a tree
# Without it (R CMD check on its own) there is nothing to read, and the tests stop here.
exports <- Sys.getenv("BLOCKSRX_TEST_EXPORTS")
if (!nzchar(exports)) {
  message("BLOCKSRX_TEST_EXPORTS is not set: tests/test_r_package.py runs these tests on ",
          "exports it writes with blocks-rx")
  quit(save = "no", status = 0)
}
csv_export <- file.path(exports, "r-export")
notree_export <- file.path(exports, "r-export-notree")
rds_export <- file.path(exports, "blocks.rds")
forms <- c(csv = csv_export, if (file.exists(rds_export)) c(rds = rds_export))
stopifnot(dir.exists(csv_export), dir.exists(notree_export))
cat("forms:", names(forms), "\n")

# Fails unless `expr` stops with a message that contains `text`.
expect_error <- function(expr, text) {
  message <- tryCatch({
    expr
    NULL
  }, error = conditionMessage)
  if (is.null(message)) stop("expected an error containing '", text, "'; there was none")
  if (!grepl(text, message, fixed = TRUE)) {
    stop("expected an error containing '", text, "', got: ", message)
  }
}
