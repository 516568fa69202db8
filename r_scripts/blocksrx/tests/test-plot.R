# plot(x): the ordered matrix, its tree, a colour bar; every option; par restored.
library(blocksrx)
source("exports.R")

x <- read_blocks(csv_export)
n <- length(x$classes)

file <- tempfile(fileext = ".png")
png(file, width = 1000, height = 1100, res = 150)
drawn <- plot(x)
invisible(dev.off())
stopifnot(identical(drawn, x), file.exists(file), file.size(file) > 5000)

pdf(NULL)
mar <- par("mar")
plot(x, dendrogram = FALSE)
plot(x, labels = FALSE, main = "")
plot(x, zlim = c(-1, 1), col = grDevices::gray.colors(11), main = "grey", cex.labels = 0.5)
stopifnot(identical(par("mar"), mar))  # margins restored: the next plot is as usual
plot(1:3)
warning_text <- tryCatch(plot(read_blocks(notree_export), dendrogram = TRUE),
                         warning = conditionMessage)
stopifnot(grepl("has no tree", warning_text))
plot(read_blocks(notree_export))  # no tree: no dendrogram, no warning
expect_error(plot(x, zlim = c(1, -1)), "zlim must be two finite numbers")
par(mfrow = c(1, 2))
plot(x)
plot(x, labels = FALSE)
invisible(dev.off())

# A device too small for the names says so; without names, it does not offer to drop them.
pdf(NULL, width = 1, height = 1)
expect_error(plot(x), "too small")
without <- tryCatch(plot(x, labels = FALSE), error = conditionMessage)
stopifnot(grepl("too small", without), !grepl("labels = FALSE", without))
invisible(dev.off())
# A small device that fits the matrix but not every name names every k-th class instead.
pdf(NULL, width = 2.6, height = 2.6)
plot(read_blocks(csv_export))
invisible(dev.off())

# The diagonal (beyond the limits) takes a darker colour than the strongest pair, which
# takes the end colour of the palette; so does the most negative pair at the other end.
m <- ordered_similarity(x)
zlim <- blocksrx:::symmetric_limits(m)
colours <- blocksrx:::diverging_colours()
scale <- blocksrx:::matrix_scale(m, zlim, colours)
colour_of <- function(v) scale$col[.bincode(v, scale$breaks, TRUE, TRUE)]  # as image() bins
stopifnot(identical(colour_of(zlim[2]), colours[length(colours)]),
          identical(colour_of(1), blocksrx:::darker(colours[length(colours)])),
          colour_of(1) != colour_of(zlim[2]),
          identical(colour_of(zlim[1]), colours[1]),
          identical(unname(grDevices::col2rgb(blocksrx:::darker("#FF8040"))[, 1]),
                    c(128L, 64L, 32L)))

# The pieces: symmetric limits around 0 from the largest |off-diagonal| value; the tree's
# segments, three a merge, up to the top height, leaves at 1..n.
m <- ordered_similarity(x)
L <- max(abs(m[row(m) != col(m)]))
stopifnot(identical(blocksrx:::symmetric_limits(m), c(-L, L)))
segs <- blocksrx:::tree_segments(x$hclust)
stopifnot(nrow(segs) == 3 * (n - 1), max(segs[, 4]) == max(x$hclust$height),
          identical(sort(segs[segs[, 2] == 0, 1]), as.numeric(seq_len(n))))
colours <- blocksrx:::diverging_colours()
stopifnot(length(colours) %% 2 == 1)

cat("all checks passed\n")
