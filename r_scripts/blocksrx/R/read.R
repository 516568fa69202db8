# Reading a blocks-rx export: an .rds file (blocks-rx export RESULT --format rds) or a
# CSV + JSON folder (--format csv, which needs no R on the Python side). Both give the same
# object of class "blocks_rx": a named list with similarity (matrix with dimnames), classes,
# order (1-based), hclust (when the ordering has a tree), groups and memberships (when
# present) and provenance.

# read_blocks(path): path is an .rds file or a CSV + JSON export folder; the result has
# class c("blocks_rx", "list"). Errors name the path and what is wrong with it.
read_blocks <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("read_blocks() takes one path: an .rds file or a CSV + JSON export folder")
  }
  if (grepl("\\.rds$", path, ignore.case = TRUE)) return(read_blocks_rds(path))
  if (!file.exists(path)) stop(path, ": no such file or folder")
  if (!dir.exists(path)) {
    stop(path, ": neither an .rds file nor a CSV + JSON export folder")
  }
  read_blocks_folder(path)
}

# An .rds file; one written before the class existed (a bare list) gets it here.
read_blocks_rds <- function(path) {
  if (!file.exists(path)) stop(path, ": no such file")
  x <- tryCatch(readRDS(path), error = function(e) {
    stop(path, ": not an .rds file R can read (", conditionMessage(e), ")", call. = FALSE)
  })
  as_blocks_rx(x, path)
}

# The CSV + JSON folder: blocks.json holds the names, order, tree flag, groups and
# provenance; similarity.csv the matrix; hclust.csv the tree's merge and height.
read_blocks_folder <- function(path) {
  json <- file.path(path, "blocks.json")
  if (!file.exists(json)) {
    inside <- file.path(path, c("blocks.rds", "r-export"))
    found <- inside[file.exists(inside)]
    stop(path, ": no blocks.json in this folder; ",
         if (length(found)) paste0("read_blocks(\"", found[1], "\") reads the export it holds")
         else "is it a blocks-rx CSV export (blocks-rx export RESULT --format csv)?",
         call. = FALSE)
  }
  if (!requireNamespace("jsonlite", quietly = TRUE)) {
    stop("reading ", path, " needs the jsonlite package ",
         "(install.packages(\"jsonlite\"); Debian: r-cran-jsonlite)")
  }
  meta <- jsonlite::fromJSON(json, simplifyVector = TRUE)
  sim <- read_similarity_csv(path, meta$classes)
  out <- list(similarity = sim, classes = meta$classes, order = as.integer(meta$order))
  if (isTRUE(meta$hclust)) out$hclust <- read_hclust_csv(path, meta)
  if (!is.null(meta$groups)) {
    out$groups <- stats::setNames(as.integer(meta$groups), meta$classes)
  }
  if (!is.null(meta$memberships)) out$memberships <- as.matrix(meta$memberships)
  out$provenance <- meta$provenance
  as_blocks_rx(out, path)
}

# similarity.csv with class names as dimnames. Names are read as text, exactly: no "NA"
# taken as missing, UTF-8 whatever the locale. Only the row names are compared with
# blocks.json (read.csv strips white space around header fields), and the dimnames then
# come from blocks.json like every other name.
read_similarity_csv <- function(path, classes) {
  file <- file.path(path, "similarity.csv")
  if (!file.exists(file)) stop(path, ": blocks.json is there but similarity.csv is missing")
  sim <- tryCatch(
    utils::read.csv(file, row.names = 1, check.names = FALSE,
                    colClasses = c("character", rep("numeric", length(classes))),
                    na.strings = character(0), encoding = "UTF-8"),
    error = function(e) stop(file, ": ", conditionMessage(e), call. = FALSE))
  sim <- as.matrix(sim)
  if (!identical(unprotect_cells(rownames(sim)), classes) || ncol(sim) != length(classes)) {
    stop(path, ": similarity.csv and blocks.json name different classes")
  }
  dimnames(sim) <- list(classes, classes)
  sim
}

# hclust.csv (merge1, merge2, height) as a real hclust object.
read_hclust_csv <- function(path, meta) {
  file <- file.path(path, "hclust.csv")
  if (!file.exists(file)) stop(path, ": blocks.json says there is a tree but hclust.csv is missing")
  tree <- utils::read.csv(file)
  structure(list(merge = cbind(as.integer(tree$merge1), as.integer(tree$merge2)),
                 height = as.double(tree$height), order = as.integer(meta$order),
                 labels = meta$classes, method = meta$linkage, call = hclust_call(meta),
                 dist.method = meta$distance),
            class = "hclust")
}

# In similarity.csv a name cell that starts with = + - @, tab, CR or a single quote carries
# one more single quote in front, so that no spreadsheet runs it as a formula
# (blocks_rx/names.py); this removes it again.
unprotect_cells <- function(cells) sub("^'", "", cells)

# The call that builds the tree from x$similarity (R's print and plot of an hclust read it);
# exports written before blocks.json held it get one naming the linkage.
hclust_call <- function(meta) {
  if (!is.null(meta$hclust_call) && nzchar(meta$hclust_call)) return(str2lang(meta$hclust_call))
  call("hclust", d = quote(d), method = meta$linkage)
}

# Check the list and give it its class; memberships get column names G1, G2, ... (exports
# written before they had them included).
as_blocks_rx <- function(x, path) {
  needed <- c("similarity", "classes", "order")
  if (!is.list(x) || !all(needed %in% names(x))) {
    stop(path, ": not a blocks-rx export (a list with similarity, classes and order)")
  }
  if (!is.null(x$memberships)) {
    x$memberships <- as.matrix(x$memberships)
    if (is.null(colnames(x$memberships))) {
      colnames(x$memberships) <- paste0("G", seq_len(ncol(x$memberships)))
    }
    rownames(x$memberships) <- x$classes
  }
  class(x) <- c("blocks_rx", "list")
  x
}
