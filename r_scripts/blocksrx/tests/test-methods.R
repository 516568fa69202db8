# print, summary, the tree (cutree, as.hclust, as.dendrogram) and ordered_similarity.
library(blocksrx)
source("exports.R")

x <- read_blocks(csv_export)
n <- length(x$classes)

# print: compact, one line each.
out <- capture.output(x)
stopifnot(identical(out[1], sprintf("<blocks_rx> %d classes, pearson similarity", n)),
          identical(out[2], "ordering: hclust, complete linkage on 1-r"),
          startsWith(out[3], paste0("order:    ", x$classes[x$order[1]], ", ")),
          startsWith(out[4], sprintf("tree:     hclust with %d merges, heights ", n - 1)),
          startsWith(out[5], sprintf("groups:   %d (x$groups), memberships %d x %d",
                                     length(unique(x$groups)), n, ncol(x$memberships))),
          grepl("plot(x)", out[6], fixed = TRUE), length(out) == 6L)
stopifnot(identical(capture.output(print(x)), out))

# summary: an object of its own class, with numbers that match the export.
s <- summary(x)
off <- x$similarity[upper.tri(x$similarity)]
stopifnot(inherits(s, "summary.blocks_rx"), s$n == n, s$pairs == n * (n - 1) / 2,
          s$similarity[["min"]] == min(off), s$similarity[["max"]] == max(off),
          s$similarity[["median"]] == stats::median(off),
          identical(s$heights, range(x$hclust$height)),
          identical(s$clusters[["3"]],
                    sort(as.vector(table(stats::cutree(x$hclust, k = 3))), decreasing = TRUE)),
          identical(unname(s$groups), as.vector(table(x$groups))))
out <- capture.output(s)
stopifnot(identical(out[1], sprintf("blocks-rx export: %d classes, pearson similarity", n)),
          sprintf("off-diagonal similarity (%d pairs):", n * (n - 1) / 2) %in% out,
          any(startsWith(out, "tree heights: ")),
          paste("  k = 3:", paste(s$clusters[["3"]], collapse = " ")) %in% out,
          any(startsWith(out, sprintf("groups: %d, sizes G1 ", length(s$groups)))))

# cutree: the same as stats::cutree on the tree, named by class; other objects unchanged.
g <- cutree(x, k = 3)
stopifnot(identical(g, stats::cutree(x$hclust, k = 3)), identical(names(g), x$classes))
h <- mean(sort(x$hclust$height)[n - 3:2])
stopifnot(identical(cutree(x, h = h), stats::cutree(x$hclust, h = h)),
          identical(cutree(x$hclust, k = 4), stats::cutree(x$hclust, k = 4)))

# as.hclust, as.dendrogram; base graphics of the tree; stats::heatmap with its dendrogram
# (what pheatmap(cluster_rows = x$hclust) needs: a valid hclust).
stopifnot(identical(as.hclust(x), x$hclust))
d <- as.dendrogram(x)
stopifnot(inherits(d, "dendrogram"), attr(d, "members") == n,
          identical(labels(d), x$classes[x$order]),
          attr(d, "height") == max(x$hclust$height))
pdf(NULL)
plot(x$hclust)
rect.hclust(x$hclust, k = 3)
plot(d)
hm <- stats::heatmap(x$similarity, Rowv = as.dendrogram(x$hclust), Colv = "Rowv", symm = TRUE)
invisible(dev.off())
stopifnot(identical(hm$rowInd, x$order), identical(hm$colInd, x$order))

# The ordered matrix.
o <- ordered_similarity(x)
stopifnot(identical(o, x$similarity[x$order, x$order]),
          identical(rownames(o), x$classes[x$order]))

# An ordering without a tree: said so, and cutree() explains why it cannot cut.
y <- read_blocks(notree_export)
stopifnot(is.null(y$hclust), identical(class(y), c("blocks_rx", "list")))
out <- capture.output(y)
stopifnot(identical(out[2], "ordering: identity"),
          startsWith(out[4], "tree:     none"), identical(out[5], "groups:   none"))
expect_error(cutree(y, k = 2), "this blocks-rx export has no tree: its ordering (identity)")
expect_error(as.dendrogram(y), "has no tree")
out <- capture.output(summary(y))
stopifnot(!any(startsWith(out, "tree heights")), !any(startsWith(out, "groups")))

cat("all checks passed\n")
