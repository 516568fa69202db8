# Draw the ordered similarity matrix of a blocks-rx export in plain R, with the stored order.
#
#   Rscript r_scripts/plot_blocks.R EXPORT OUT.png [TITLE]
#
# EXPORT is an .rds file or a CSV + JSON export folder (see read_blocks.R). The picture uses
# base graphics' image(), so it needs no package beyond jsonlite for the CSV form.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript plot_blocks.R EXPORT OUT.png [TITLE]")
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "read_blocks.R"))  # read_blocks()

x <- read_blocks(args[1])
m <- x$similarity[x$order, x$order]
n <- nrow(m)
off <- m[upper.tri(m)]
limits <- stats::quantile(off, c(0.01, 0.99), names = FALSE)
palette <- grDevices::hcl.colors(101, "RdYlBu", rev = TRUE)

grDevices::png(args[2], width = 1400, height = 1400, res = 150)
par(mar = c(if (n <= 100) 8 else 2, if (n <= 100) 8 else 2, 3, 1))
# image() draws columns bottom-up; flip rows so the first class sits at the top left.
image(seq_len(n), seq_len(n), t(m[n:1, ]), col = palette, zlim = limits,
      axes = FALSE, xlab = "", ylab = "", useRaster = TRUE)
if (n <= 100) {
  labels <- rownames(m)
  axis(1, at = seq_len(n), labels = labels, las = 2, cex.axis = 0.5, tick = FALSE)
  axis(2, at = seq_len(n), labels = rev(labels), las = 1, cex.axis = 0.5, tick = FALSE)
}
title(if (length(args) >= 3) args[3] else sprintf("%d classes in the stored order", n))
box()
invisible(grDevices::dev.off())
cat("wrote", args[2], "\n")
