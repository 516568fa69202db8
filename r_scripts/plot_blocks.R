# Draw the ordered similarity matrix of a blocks-rx export in plain R, with the stored order.
#
#   Rscript r_scripts/plot_blocks.R EXPORT OUT.png [TITLE]
#
# EXPORT is an .rds file or a CSV + JSON export folder (see read_blocks.R). The picture is
# plot(x) of the blocksrx package (base graphics, no other package): every cell drawn, a
# palette centred on 0 with symmetric limits, a colour bar, the tree above the matrix and
# every class name up to 150 classes. 150 dpi; the image grows with the number of classes.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript plot_blocks.R EXPORT OUT.png [TITLE]")
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))[1]
source(file.path(dirname(script), "read_blocks.R"))  # read_blocks() and plot(x)

x <- read_blocks(args[1])
n <- length(x$classes)
# About 16 pixels a class while the names are drawn (n <= 150), then about one pixel a
# class; text grows with the bigger pictures so that the title and the legend stay legible.
side <- if (n <= 150) max(900, 16 * n) else min(4000, max(1800, n))
tree <- !is.null(x$hclust)

# Written under a temporary name and renamed, so that a failure leaves no half picture.
out <- args[2]
partial <- file.path(dirname(out), paste0(".", basename(out), ".partial"))
grDevices::png(partial, width = side + 500, height = round(side * if (tree) 1.2 else 1) + 450,
               res = 150, pointsize = round(12 * max(1, side / 1800)))
drawn <- FALSE
tryCatch({
  plot(x, main = if (length(args) >= 3) args[3] else NULL)
  drawn <- TRUE
}, finally = {
  invisible(grDevices::dev.off())
  if (!drawn) unlink(partial)
})
if (!file.rename(partial, out)) stop("could not write ", out)
cat("wrote", out, "\n")
