# plot(x): the ordered similarity matrix in base graphics, with the tree above it, a colour
# bar at its right and the class names along its left and bottom sides.
#
# Every cell is drawn: values beyond zlim (the diagonal, by default) take a darker shade of
# the colour at that end, and the colour bar shows an arrow there, so no pair of distinct
# classes shares the diagonal's colour; missing values show grey. The palette diverges
# from 0 with symmetric limits, so equal colours mean equal |similarity| whatever the sign.

plot.blocks_rx <- function(x, zlim = NULL, dendrogram = !is.null(x$hclust),
                           labels = length(x$classes) <= 150, main = NULL, col = NULL,
                           cex.labels = NULL, ...) {
  m <- ordered_similarity(x)
  n <- nrow(m)
  if (is.null(zlim)) zlim <- symmetric_limits(m)
  if (length(zlim) != 2L || !all(is.finite(zlim)) || zlim[1] >= zlim[2]) {
    stop("zlim must be two finite numbers, the lower first")
  }
  if (is.null(col)) col <- diverging_colours()
  if (isTRUE(dendrogram) && is.null(x$hclust)) {
    warning("this blocks-rx export has no tree; drawing the matrix without one")
    dendrogram <- FALSE
  }
  if (is.null(main)) main <- default_title(x)
  shown <- if (isTRUE(labels)) rownames(m) else NULL

  # Restoring mar returns the next plot to margins; none here, as the layout sets the
  # parts' places itself (and plot.new() refuses a small figure with the usual margins).
  op <- graphics::par(c("mar", "xpd"))
  on.exit(graphics::par(op))
  graphics::par(mar = c(0, 0, 0, 0))
  graphics::plot.new()
  boxes <- plot_layout(n, shown, cex.labels, nzchar(main), isTRUE(dendrogram), zlim)
  if (!is.null(shown) && is.null(cex.labels) && boxes$cex < MIN_LABEL_CEX) {
    # Names that small cannot be read: every step-th class is named instead, larger.
    step <- ceiling(MIN_LABEL_CEX / boxes$cex)
    shown[-seq(1L, n, by = step)] <- ""
    boxes <- plot_layout(n, shown, min(1, boxes$cex * step), nzchar(main),
                         isTRUE(dendrogram), zlim)
  }
  beyond <- c(below = any(m < zlim[1], na.rm = TRUE), above = any(m > zlim[2], na.rm = TRUE))
  draw_matrix(m, zlim, col, boxes$matrix)
  if (!is.null(shown)) draw_labels(shown, boxes$cex, boxes$gap * n / boxes$side)
  if (isTRUE(dendrogram)) draw_tree(x$hclust, boxes$tree)
  draw_colour_bar(col, zlim, boxes$bar, beyond)
  if (nzchar(main)) {
    panel <- if (isTRUE(dendrogram)) boxes$tree else boxes$matrix
    set_panel(panel, c(0, 1), c(0, 1))
    centre <- mean(panel[1:2])
    draw_title(main, 2 * min(centre, boxes$fin[1] - centre))
  }
  invisible(x)
}

# ------------------------------------------------------------------------ colours, title

# Class names are never drawn smaller than this (about 5 points); where each row is too
# small for that, every k-th class is named.
MIN_LABEL_CEX <- 0.4

# 101 colours from blue (negative) through near-white (0) to red (positive): an odd count,
# so that one colour is centred on 0.
diverging_colours <- function(n = 101L) grDevices::hcl.colors(n, "RdBu", rev = TRUE)

# The colour of values beyond the limits: the end colour, half way to black.
darker <- function(colour) {
  rgb <- grDevices::col2rgb(colour) / 255 * 0.5
  grDevices::rgb(rgb[1, ], rgb[2, ], rgb[3, ])
}

# The title on one line over the panel, made smaller (down to half size) where it would not
# fit in `width` inches (centred on the panel).
draw_title <- function(main, width) {
  cex <- graphics::par("cex.main")
  room <- 0.96 * width
  wide <- graphics::strwidth(main, "inches", cex = cex, font = graphics::par("font.main"))
  if (wide > room) cex <- max(cex * room / wide, cex / 2)
  graphics::title(main = main, line = 0.8, cex.main = cex, xpd = NA)
}

# c(-L, L), L the largest |similarity| off the diagonal (1 when there is none).
symmetric_limits <- function(m) {
  a <- abs(m)
  diag(a) <- NA
  L <- if (all(is.na(a))) NA else max(a, na.rm = TRUE)
  if (!is.finite(L) || L == 0) L <- 1
  c(-L, L)
}

default_title <- function(x) {
  paste0(length(x$classes), " classes", measure_text(x), "; ", ordering_name(x))
}

# ------------------------------------------------------------------------------- layout

# Where each part goes, in inches from the bottom left of the figure region, as
# c(x0, x1, y0, y1): the square matrix, the tree above it, the colour bar at its right.
# The labels' size follows the cell size (cex.labels overrides it), so every name fits its
# row; the labels' width then sets the margins, so a few rounds settle both.
plot_layout <- function(n, labels, cex, title, tree, zlim) {
  fin <- graphics::par("fin")
  csi <- graphics::par("csi")
  pad <- 0.1
  gap <- 0.06
  top <- if (title) 2.2 * csi else pad
  bar <- c(gap = 0.25, width = 0.2, axis = bar_axis_width(zlim))
  tree_share <- if (tree) 0.2 else 0
  fixed_w <- 2 * pad + sum(bar)
  fixed_h <- top + pad + if (tree) gap else 0
  side_for <- function(margin) {
    min(fin[1] - fixed_w - margin, (fin[2] - fixed_h - margin) / (1 + tree_share))
  }
  fit <- is.null(cex)
  margin <- 0
  for (i in 1:4) {
    side <- side_for(margin)
    if (fit) cex <- min(1, max(side / n / csi, 0.05))
    margin <- if (is.null(labels)) 0 else
      max(graphics::strwidth(labels, "inches", cex = cex)) + gap
    cap <- 0.3 * min(fin)  # long labels: smaller text rather than a tiny matrix
    if (margin > cap) {
      if (fit) cex <- max(cex * (cap - gap) / (margin - gap), 0.05)
      margin <- cap
    }
  }
  side <- side_for(margin)
  if (side < 0.5) {
    stop("the plotting region is too small for the matrix (about ", round(fixed_w + margin + 0.5, 1),
         " x ", round(fixed_h + margin + 0.5 * (1 + tree_share), 1), " inches needed); ",
         "enlarge the device", if (!is.null(labels)) " or use labels = FALSE" else "",
         call. = FALSE)
  }
  x0 <- (fin[1] - (fixed_w + margin + side)) / 2 + pad + margin
  y0 <- (fin[2] - (fixed_h + margin + side * (1 + tree_share))) / 2 + pad + margin
  list(fin = fin, side = side, cex = cex, gap = gap,
       matrix = c(x0, x0 + side, y0, y0 + side),
       tree = c(x0, x0 + side, y0 + side + gap, y0 + side + gap + tree_share * side),
       bar = c(x0 + side + bar[["gap"]], x0 + side + bar[["gap"]] + bar[["width"]],
               y0, y0 + side))
}

# Room at the right of the colour bar for its tick labels and its name above it.
bar_axis_width <- function(zlim) {
  ticks <- format(signif(bar_ticks(zlim), 2))
  max(graphics::strwidth(ticks, "inches", cex = 0.8) + 0.15,
      graphics::strwidth("similarity", "inches", cex = 0.8) - 0.2)
}

# Round values inside the limits, and the limits themselves (where the colours stop) unless
# a round value lies close to them.
bar_ticks <- function(zlim) {
  ticks <- pretty(zlim)
  ticks <- ticks[ticks >= zlim[1] & ticks <= zlim[2]]
  near <- 0.08 * diff(zlim)
  ends <- zlim[vapply(zlim, function(z) all(abs(ticks - z) > near), logical(1))]
  sort(c(ticks, ends))
}

# Make `box` (inches, as plot_layout gives it) the plot region, with these coordinates.
set_panel <- function(box, xlim, ylim) {
  fin <- graphics::par("fin")
  graphics::par(plt = c(box[1:2] / fin[1], box[3:4] / fin[2]))
  graphics::plot.window(xlim, ylim, xaxs = "i", yaxs = "i")
}

# -------------------------------------------------------------------------------- parts

# Cell (i, j) of the ordered matrix at x = j, y = n + 1 - i: the first class at the top left.
draw_matrix <- function(m, zlim, col, box) {
  n <- nrow(m)
  set_panel(box, c(0.5, n + 0.5), c(0.5, n + 0.5))
  graphics::rect(0.5, 0.5, n + 0.5, n + 0.5, col = "grey70", border = NA)  # missing values
  scale <- matrix_scale(m, zlim, col)
  graphics::image(seq_len(n), seq_len(n), t(m[n:1, , drop = FALSE]), breaks = scale$breaks,
                  col = scale$col, add = TRUE, useRaster = TRUE)
  graphics::box()
}

# Breaks and colours of the cells: `col` between the limits (both included), and beyond
# them one more interval at each end, reaching far outside, for the darker end colours.
# image() bins right-closed, so the lowest break moves a hair below zlim[1].
matrix_scale <- function(m, zlim, col) {
  span <- diff(zlim) + max(abs(m), 1, na.rm = TRUE)
  inside <- seq(zlim[1], zlim[2], length.out = length(col) + 1L)
  inside[1] <- zlim[1] - 1e-9 * diff(zlim)
  list(breaks = c(zlim[1] - span, inside, zlim[2] + span),
       col = c(darker(col[1]), col, darker(col[length(col)])))
}

# Every name, on both sides: text() rather than axis(), which drops labels that overlap.
draw_labels <- function(labels, cex, offset) {
  n <- length(labels)
  graphics::text(seq_len(n), 0.5 - offset, labels, srt = 90, adj = c(1, 0.5), xpd = NA,
                 cex = cex)
  graphics::text(0.5 - offset, rev(seq_len(n)), labels, adj = c(1, 0.5), xpd = NA, cex = cex)
}

draw_tree <- function(tree, box) {
  n <- length(tree$order)
  top <- max(tree$height, 0, na.rm = TRUE)
  set_panel(box, c(0.5, n + 0.5), c(0, if (top > 0) top else 1))
  s <- tree_segments(tree)
  graphics::segments(s[, 1], s[, 2], s[, 3], s[, 4], lwd = 0.7, xpd = NA)
}

# The tree as line segments (x0, y0, x1, y1): leaves at 1..n in the tree's order, each
# merge at its height. A loop over the merges rather than as.dendrogram(), whose recursion
# overflows on deep trees.
tree_segments <- function(tree) {
  n <- length(tree$order)
  leaf_x <- integer(n)
  leaf_x[tree$order] <- seq_len(n)
  node_x <- numeric(n - 1L)
  segs <- matrix(0, 3L * (n - 1L), 4L)
  for (i in seq_len(n - 1L)) {
    child <- tree$merge[i, ]  # negative: a leaf; positive: an earlier merge
    cx <- ifelse(child < 0, leaf_x[abs(child)], node_x[abs(child)])
    cy <- ifelse(child < 0, 0, tree$height[pmax(child, 1L)])
    h <- tree$height[i]
    node_x[i] <- mean(cx)
    segs[3L * i - 2:0, ] <- rbind(c(cx[1], cy[1], cx[1], h), c(cx[2], cy[2], cx[2], h),
                                  c(cx[1], h, cx[2], h))
  }
  segs
}

# The bar, with a triangle in the darker colour at each end that values go beyond.
draw_colour_bar <- function(col, zlim, box, beyond = c(below = FALSE, above = FALSE)) {
  set_panel(box, c(0, 1), zlim)
  breaks <- seq(zlim[1], zlim[2], length.out = length(col) + 1L)
  graphics::rect(0, utils::head(breaks, -1L), 1, breaks[-1L], col = col, border = NA)
  graphics::box()
  tip <- 0.15 / (box[4] - box[3]) * diff(zlim)  # 0.15 inches
  if (beyond[["above"]]) {
    graphics::polygon(c(0, 1, 0.5), zlim[2] + c(0, 0, tip), col = darker(col[length(col)]),
                      xpd = NA)
  }
  if (beyond[["below"]]) {
    graphics::polygon(c(0, 1, 0.5), zlim[1] - c(0, 0, tip), col = darker(col[1]), xpd = NA)
  }
  ticks <- bar_ticks(zlim)
  graphics::axis(4, at = ticks, labels = signif(ticks, 2), las = 1, cex.axis = 0.8,
                 tcl = -0.3, mgp = c(3, 0.5, 0))
  graphics::mtext("similarity", side = 3, line = if (beyond[["above"]]) 1.2 else 0.4, adj = 0,
                  cex = 0.8)
}
