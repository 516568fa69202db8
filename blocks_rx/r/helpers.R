# R side of the blocks-rx bridge. Loaded once per session by blocks_rx/r/session.py.
# Every function takes and returns plain vectors, matrices and named lists, because the
# Python side converts results with numpy2ri, which drops R attributes and classes.

# A `dist` object straight from a condensed vector (R's and scipy's order), no m x m matrix.
blocks_dist <- function(x, n, labels = NULL) {
  d <- structure(as.double(x), Size = as.integer(n), Diag = FALSE, Upper = FALSE,
                 method = "blocks-rx", class = "dist")
  if (!is.null(labels)) attr(d, "Labels") <- as.character(labels)
  d
}

blocks_hclust <- function(x, n, method) {
  h <- stats::hclust(blocks_dist(x, n), method = method)
  list(merge = h$merge, height = h$height, order = h$order)
}

blocks_seriate <- function(x, n, method, control, seed) {
  set.seed(seed)
  o <- seriation::seriate(blocks_dist(x, n), method = method, control = control)[[1]]
  out <- list(order = seriation::get_order(o))
  if (inherits(o, "hclust")) {
    out$merge <- o$merge
    out$height <- o$height
    out$linkage <- o$method
  }
  out
}

blocks_criterion <- function(x, n, order, methods) {
  values <- seriation::criterion(blocks_dist(x, n), seriation::ser_permutation(as.integer(order)),
                                 method = methods)
  as.list(values)
}

blocks_seriation_methods <- function(kind) {
  as.character(seriation::list_seriation_methods(kind))
}

blocks_criterion_methods <- function(kind) {
  as.character(seriation::list_criterion_methods(kind))
}

blocks_versions <- function() {
  # Installed or not, read from its DESCRIPTION: loading seriation (and TSP, qap, ca...)
  # just for its version took 30 ms of every session, which mostly needs only stats.
  seriation <- if (nzchar(system.file(package = "seriation"))) {
    as.character(utils::packageVersion("seriation"))
  } else NA_character_
  list(R = paste(R.version$major, R.version$minor, sep = "."), seriation = seriation)
}

# The export list, of class "blocks_rx" (r_scripts/blocksrx, the R package, gives it
# print, summary, plot and cutree methods and reads the same list from CSV + JSON).
blocks_export_list <- function(matrix, classes, merge, height, order, linkage, distance,
                               hclust_call, groups, memberships, provenance_json) {
  # numpy2ri gives 1-d arrays a dim attribute; plain vectors are what R users expect.
  classes <- as.character(classes)
  dimnames(matrix) <- list(classes, classes)
  out <- list(similarity = matrix, classes = classes, order = as.integer(order))
  if (!is.null(merge)) {
    storage.mode(merge) <- "integer"
    out$hclust <- structure(list(merge = merge, height = as.double(height),
                                 order = as.integer(order), labels = classes,
                                 method = linkage, call = str2lang(hclust_call),
                                 dist.method = distance), class = "hclust")
  }
  if (!is.null(groups)) {
    groups <- as.integer(groups)
    names(groups) <- classes
    out$groups <- groups
  }
  if (!is.null(memberships)) {
    dimnames(memberships) <- list(classes, paste0("G", seq_len(ncol(memberships))))
    out$memberships <- memberships
  }
  out$provenance <- jsonlite::fromJSON(provenance_json)
  class(out) <- c("blocks_rx", "list")
  out
}

blocks_save_rds <- function(matrix, classes, merge, height, order, linkage, distance,
                            hclust_call, groups, memberships, provenance_json, path) {
  saveRDS(blocks_export_list(matrix, classes, merge, height, order, linkage, distance,
                             hclust_call, groups, memberships, provenance_json), path)
  invisible(TRUE)
}

blocks_assign <- function(name, matrix, classes, merge, height, order, linkage, distance,
                          hclust_call, groups, memberships, provenance_json) {
  # The blocksrx package, when installed, registers print, summary and plot for the class.
  requireNamespace("blocksrx", quietly = TRUE)
  assign(name, blocks_export_list(matrix, classes, merge, height, order, linkage, distance,
                                  hclust_call, groups, memberships, provenance_json),
         envir = globalenv())
  invisible(TRUE)
}
