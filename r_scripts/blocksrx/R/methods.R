# Methods that make a blocks_rx object behave like the R objects it holds: print, summary,
# the tree (as.hclust, as.dendrogram, cutree) and the ordered matrix.

# The similarity matrix with rows and columns in the stored order, class names kept.
ordered_similarity <- function(x) {
  if (!inherits(x, "blocks_rx")) {
    stop("ordered_similarity() takes a blocks-rx export (read_blocks(path)), not a ",
         class(x)[1], call. = FALSE)
  }
  x$similarity[x$order, x$order, drop = FALSE]
}

# stats::cutree is not generic; this one is, so that cutree(x, k = 5) works on an export.
# Every other object goes to stats::cutree unchanged.
cutree <- function(tree, k = NULL, h = NULL) UseMethod("cutree")

cutree.default <- function(tree, k = NULL, h = NULL) stats::cutree(tree, k = k, h = h)

cutree.blocks_rx <- function(tree, k = NULL, h = NULL) {
  stats::cutree(as.hclust(tree), k = k, h = h)
}

as.hclust.blocks_rx <- function(x, ...) {
  if (is.null(x$hclust)) {
    stop("this blocks-rx export has no tree: its ordering (", ordering_name(x),
         ") is not hierarchical; x$order still gives the order", call. = FALSE)
  }
  x$hclust
}

as.dendrogram.blocks_rx <- function(object, ...) {
  stats::as.dendrogram(as.hclust(object), ...)
}

print.blocks_rx <- function(x, ...) {
  n <- length(x$classes)
  cat("<blocks_rx> ", n, " classes", measure_text(x), "\n", sep = "")
  cat("ordering: ", ordering_name(x), "\n", sep = "")
  cat("order:    ", first_names(x$classes[x$order], 4), "\n", sep = "")
  cat("tree:     ", tree_text(x$hclust), "\n", sep = "")
  cat("groups:   ", groups_text(x), "\n", sep = "")
  cat(if (is.null(x$hclust)) "plot(x) draws the ordered matrix; summary(x) describes it\n"
      else "plot(x) draws the ordered matrix and its tree; summary(x), cutree(x, k = 5)\n")
  invisible(x)
}

summary.blocks_rx <- function(object, ...) {
  sim <- object$similarity
  off <- sim[upper.tri(sim)]
  out <- list(n = length(object$classes), measure = measure_text(object),
              ordering = ordering_name(object), pairs = length(off),
              missing = sum(is.na(off)), similarity = distribution(off))
  if (!is.null(object$hclust)) {
    out$heights <- range(object$hclust$height)
    ks <- seq_len(min(5L, out$n))[-1L]
    out$clusters <- lapply(stats::setNames(ks, ks), function(k) {
      sort(as.vector(table(cutree(object, k = k))), decreasing = TRUE)
    })
  }
  if (!is.null(object$groups)) {
    ids <- sort(unique(object$groups))
    out$groups <- stats::setNames(tabulate(match(object$groups, ids)), paste0("G", ids))
  }
  if (!is.null(object$memberships)) {
    out$top_membership <- stats::median(apply(object$memberships, 1L, max))
  }
  structure(out, class = "summary.blocks_rx")
}

print.summary.blocks_rx <- function(x, digits = 3L, ...) {
  cat("blocks-rx export: ", x$n, " classes", x$measure, "\n", sep = "")
  cat("ordering: ", x$ordering, "\n", sep = "")
  cat("off-diagonal similarity (", format(x$pairs, big.mark = ","), " pairs",
      if (x$missing > 0) paste0(", ", x$missing, " missing"), "):\n", sep = "")
  print(round(x$similarity, digits))
  if (!is.null(x$heights)) {
    cat("tree heights: ", paste(signif(x$heights, digits), collapse = " to "), "\n", sep = "")
    cat("cluster sizes when the tree is cut into k clusters:\n")
    for (k in names(x$clusters)) cat("  k = ", k, ": ", paste(x$clusters[[k]], collapse = " "),
                                     "\n", sep = "")
  }
  if (!is.null(x$groups)) {
    sizes <- paste(names(x$groups), x$groups, collapse = ", ")
    cat(strwrap(paste0("groups: ", length(x$groups), ", sizes ", sizes), exdent = 2), sep = "\n")
  }
  if (!is.null(x$top_membership)) {
    cat("memberships: each class's largest has median ", signif(x$top_membership, digits), "\n",
        sep = "")
  }
  invisible(x)
}

# ---------------------------------------------------------------------- small helpers

# Min, quartiles, max and mean, NA values left out.
distribution <- function(values) {
  if (all(is.na(values))) return(c(min = NA, Q1 = NA, median = NA, Q3 = NA, max = NA, mean = NA))
  q <- stats::quantile(values, c(0, 0.25, 0.5, 0.75, 1), names = FALSE, na.rm = TRUE)
  c(min = q[1], Q1 = q[2], median = q[3], Q3 = q[4], max = q[5], mean = mean(values, na.rm = TRUE))
}

# One value of the provenance list, as text, or NULL: provenance_value(x, "ordering", "linkage").
provenance_value <- function(x, ...) {
  value <- x$provenance
  for (key in c(...)) {
    if (!is.list(value) || is.null(value[[key]])) return(NULL)
    value <- value[[key]]
  }
  if (!is.atomic(value) || length(value) != 1L || is.na(value)) return(NULL)
  value <- as.character(value)
  if (nzchar(value)) value else NULL
}

# ", pearson similarity", or nothing when the provenance does not say.
measure_text <- function(x) {
  measure <- provenance_value(x, "similarity", "measure")
  if (is.null(measure)) "" else paste0(", ", measure, " similarity")
}

# How the classes were ordered: "hclust, complete linkage on 1-r", "OLO", ...
ordering_name <- function(x) {
  tree <- x$hclust
  method <- provenance_value(x, "ordering", "method")
  if (is.null(method)) method <- if (is.null(tree)) "stored order" else "hclust"
  linkage <- if (is.null(tree)) NULL else tree$method
  distance <- if (is.null(tree)) provenance_value(x, "ordering", "distance") else tree$dist.method
  text <- method
  if (length(linkage) == 1L && nzchar(linkage) && linkage != method) {
    text <- paste0(text, ", ", linkage, " linkage")
  }
  if (length(distance) == 1L && nzchar(distance)) text <- paste0(text, " on ", distance)
  text
}

# "a, b, c, ... (97 in all)"
first_names <- function(names, k) {
  if (length(names) <= k) return(paste(names, collapse = ", "))
  paste0(paste(utils::head(names, k), collapse = ", "), ", ... (", length(names), " in all)")
}

tree_text <- function(tree) {
  if (is.null(tree)) return("none (the ordering is not hierarchical; cutree() needs a tree)")
  paste0("hclust with ", nrow(tree$merge), " merges, heights ",
         paste(signif(range(tree$height), 3), collapse = " to "))
}

groups_text <- function(x) {
  if (is.null(x$groups)) return("none")
  text <- paste0(length(unique(x$groups)), " (x$groups)")
  if (!is.null(x$memberships)) {
    text <- paste0(text, ", memberships ", nrow(x$memberships), " x ", ncol(x$memberships),
                   " (x$memberships)")
  }
  text
}
