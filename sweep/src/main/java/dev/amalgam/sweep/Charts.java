package dev.amalgam.sweep;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The sweep's charts, drawn with JFreeChart from one chart model into a PNG (a raster image) and an
 * SVG (JFreeSVG's Graphics2D), so both show the same picture:
 *
 * <ul>
 *   <li>the trade-off: clinical objective against instruction-following objective for every point,
 *       one panel per method, with 95 % intervals as error bars on both axes, the Pareto front as a
 *       dashed line, the input models as labelled diamonds and the recommended merge ringed;
 *   <li>each objective and each task's metric against t, one line per method.
 * </ul>
 */
public final class Charts {
  static final int PANEL_WIDTH = 520;
  static final int PANEL_HEIGHT = 440;
  private static final int COLUMNS = 3;
  private static final Color[] PALETTE = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0x9467bd),
    new Color(0xff7f0e),
    new Color(0x8c564b)
  };

  private Charts() {}

  /** A picture made of panels, drawable to any Graphics2D. */
  public static final class Picture {
    private final List<JFreeChart> panels;

    Picture(List<JFreeChart> panels) {
      this.panels = List.copyOf(panels);
    }

    /** The picture's width in pixels. */
    public int width() {
      return PANEL_WIDTH * Math.min(COLUMNS, Math.max(1, panels.size()));
    }

    /** The picture's height in pixels. */
    public int height() {
      return PANEL_HEIGHT * ((Math.max(1, panels.size()) + COLUMNS - 1) / COLUMNS);
    }

    void draw(Graphics2D g) {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width(), height());
      for (int i = 0; i < panels.size(); i++) {
        Rectangle2D area =
            new Rectangle2D.Double(
                (i % COLUMNS) * PANEL_WIDTH,
                (i / COLUMNS) * PANEL_HEIGHT,
                PANEL_WIDTH,
                PANEL_HEIGHT);
        panels.get(i).draw(g, area);
      }
    }

    /** The picture as a PNG file's bytes. */
    public byte[] png() throws IOException {
      BufferedImage image = new BufferedImage(width(), height(), BufferedImage.TYPE_INT_RGB);
      Graphics2D g = image.createGraphics();
      try {
        draw(g);
      } finally {
        g.dispose();
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(image, "png", out);
      return out.toByteArray();
    }

    /** The picture as an SVG document. */
    public String svg() {
      SVGGraphics2D g = new SVGGraphics2D(width(), height());
      draw(g);
      return g.getSVGDocument();
    }
  }

  /** Charts need no display. */
  static void headless() {
    if (System.getProperty("java.awt.headless") == null)
      System.setProperty("java.awt.headless", "true");
  }

  /**
   * The trade-off chart, one panel per method.
   *
   * @param xLabel the instruction-following objective's label
   * @param yLabel the clinical objective's label
   */
  public static Picture tradeoff(
      List<String> methods,
      List<PointResult> results,
      List<PointResult> front,
      PointResult recommended,
      String xLabel,
      String yLabel) {
    headless();
    List<JFreeChart> panels = new ArrayList<>();
    for (int m = 0; m < methods.size(); m++) {
      String method = methods.get(m);
      XYPlot plot = new XYPlot();
      plot.setBackgroundPaint(Color.WHITE);
      plot.setDomainGridlinePaint(new Color(0xdddddd));
      plot.setRangeGridlinePaint(new Color(0xdddddd));
      NumberAxis x = new NumberAxis(xLabel);
      NumberAxis y = new NumberAxis(yLabel);
      x.setAutoRangeIncludesZero(false);
      y.setAutoRangeIncludesZero(false);
      plot.setDomainAxis(x);
      plot.setRangeAxis(y);

      XYIntervalSeries merges = new XYIntervalSeries(method + " merges");
      XYIntervalSeries inputs = new XYIntervalSeries("input models");
      for (PointResult r : results) {
        if (!r.isComparable()) continue;
        if (r.point().isInput()) {
          add(inputs, r);
          plot.addAnnotation(label(r.point().model(), r, TextAnchor.BOTTOM_LEFT));
        } else if (r.point().method().equals(method)) {
          add(merges, r);
          if (!Double.isNaN(r.point().t())) {
            plot.addAnnotation(label(tLabel(r.point()), r, TextAnchor.TOP_LEFT));
          }
        }
      }
      XYIntervalSeries ring = new XYIntervalSeries("recommended");
      if (recommended != null && recommended.point().method().equals(method))
        add(ring, recommended);
      XYSeries frontLine = new XYSeries("Pareto front", false, true);
      for (PointResult r : front) frontLine.add(r.instruction().value(), r.clinical().value());

      plot.setDataset(0, collection(ring));
      XYLineAndShapeRenderer ringRenderer = new XYLineAndShapeRenderer(false, true);
      ringRenderer.setSeriesShape(0, new Ellipse2D.Double(-9, -9, 18, 18));
      ringRenderer.setSeriesShapesFilled(0, false);
      ringRenderer.setSeriesPaint(0, Color.BLACK);
      ringRenderer.setSeriesStroke(0, new BasicStroke(2f));
      plot.setRenderer(0, ringRenderer);

      plot.setDataset(1, collection(inputs));
      plot.setRenderer(1, errorRenderer(Color.DARK_GRAY, diamond(), false));

      plot.setDataset(2, collection(merges));
      plot.setRenderer(
          2, errorRenderer(PALETTE[m % PALETTE.length], new Ellipse2D.Double(-4, -4, 8, 8), false));

      plot.setDataset(3, new XYSeriesCollection(frontLine));
      XYLineAndShapeRenderer frontRenderer = new XYLineAndShapeRenderer(true, false);
      frontRenderer.setSeriesPaint(0, new Color(0x555555));
      frontRenderer.setSeriesStroke(
          0,
          new BasicStroke(
              1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f));
      plot.setRenderer(3, frontRenderer);

      JFreeChart chart = new JFreeChart(method, new Font("SansSerif", Font.BOLD, 15), plot, true);
      chart.setBackgroundPaint(Color.WHITE);
      panels.add(chart);
    }
    return new Picture(panels);
  }

  /**
   * Each objective and each task metric against t, one line per method (the input models at t = 0
   * and 1 where two models are swept).
   *
   * @param series panel title to a function of a point's result
   */
  public static Picture againstT(
      List<String> methods,
      List<PointResult> results,
      Map<String, java.util.function.Function<PointResult, Measure>> series) {
    headless();
    List<JFreeChart> panels = new ArrayList<>();
    for (Map.Entry<String, java.util.function.Function<PointResult, Measure>> panel :
        series.entrySet()) {
      XYPlot plot = new XYPlot();
      plot.setBackgroundPaint(Color.WHITE);
      plot.setDomainGridlinePaint(new Color(0xdddddd));
      plot.setRangeGridlinePaint(new Color(0xdddddd));
      NumberAxis x = new NumberAxis("t");
      NumberAxis y = new NumberAxis(panel.getKey());
      y.setAutoRangeIncludesZero(false);
      plot.setDomainAxis(x);
      plot.setRangeAxis(y);
      XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
      XYErrorRenderer renderer = new XYErrorRenderer();
      renderer.setDrawXError(false);
      renderer.setDefaultLinesVisible(true);
      for (int m = 0; m < methods.size(); m++) {
        String method = methods.get(m);
        XYIntervalSeries s = new XYIntervalSeries(method, true, true);
        for (PointResult r : results) {
          boolean ofMethod =
              r.point().method().equals(method) || (r.point().isInput() && Grid.usesT(method));
          if (!ofMethod || Double.isNaN(r.point().t())) continue;
          Measure v = panel.getValue().apply(r);
          if (!v.isKnown()) continue;
          s.add(
              r.point().t(),
              r.point().t(),
              r.point().t(),
              v.value(),
              v.hasInterval() ? v.lower() : v.value(),
              v.hasInterval() ? v.upper() : v.value());
        }
        data.addSeries(s);
        renderer.setSeriesPaint(m, PALETTE[m % PALETTE.length]);
        renderer.setSeriesShape(m, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
      }
      renderer.setErrorPaint(new Color(0x888888));
      plot.setDataset(data);
      plot.setRenderer(renderer);
      JFreeChart chart =
          new JFreeChart(panel.getKey(), new Font("SansSerif", Font.BOLD, 14), plot, true);
      chart.setBackgroundPaint(Color.WHITE);
      panels.add(chart);
    }
    return new Picture(panels);
  }

  private static void add(XYIntervalSeries s, PointResult r) {
    Measure x = r.instruction();
    Measure y = r.clinical();
    s.add(
        x.value(),
        x.hasInterval() ? x.lower() : x.value(),
        x.hasInterval() ? x.upper() : x.value(),
        y.value(),
        y.hasInterval() ? y.lower() : y.value(),
        y.hasInterval() ? y.upper() : y.value());
  }

  private static XYIntervalSeriesCollection collection(XYIntervalSeries s) {
    XYIntervalSeriesCollection c = new XYIntervalSeriesCollection();
    c.addSeries(s);
    return c;
  }

  private static XYErrorRenderer errorRenderer(Color color, Shape shape, boolean lines) {
    XYErrorRenderer r = new XYErrorRenderer();
    r.setDefaultLinesVisible(lines);
    r.setSeriesPaint(0, color);
    r.setSeriesShape(0, shape);
    r.setErrorPaint(new Color(color.getRed(), color.getGreen(), color.getBlue(), 110));
    r.setCapLength(5);
    return r;
  }

  private static Shape diamond() {
    java.awt.geom.Path2D.Double d = new java.awt.geom.Path2D.Double();
    d.moveTo(0, -7);
    d.lineTo(7, 0);
    d.lineTo(0, 7);
    d.lineTo(-7, 0);
    d.closePath();
    return d;
  }

  private static XYTextAnnotation label(String text, PointResult r, TextAnchor anchor) {
    XYTextAnnotation a =
        new XYTextAnnotation(" " + text, r.instruction().value(), r.clinical().value());
    a.setFont(new Font("SansSerif", Font.PLAIN, 11));
    a.setTextAnchor(anchor);
    return a;
  }

  private static String tLabel(GridPoint p) {
    return Grid.primaryAxis(p.method()) + "=" + GridPoint.format(p.t());
  }
}
