package dev.graft.report;

import dev.graft.metrics.EpochRecord;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** XChart charts rendered to base64 PNG data URIs for the HTML report. */
final class Charts {
  static final int WIDTH = 520;
  static final int HEIGHT = 320;
  private static final Color TRAIN = new Color(0x1f, 0x77, 0xb4);
  private static final Color VALID = new Color(0xff, 0x7f, 0x0e);
  private static final Color BEST = new Color(0x2c, 0xa0, 0x2c);
  private static final Color[] PALETTE = {
    new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e), new Color(0x2c, 0xa0, 0x2c),
    new Color(0xd6, 0x27, 0x28), new Color(0x94, 0x67, 0xbd), new Color(0x8c, 0x56, 0x4b)
  };

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /**
   * Training vs validation curve of one per-epoch quantity, the best epoch marked by a dashed
   * vertical line (none when {@code bestEpoch < 1}); null if nothing to plot.
   */
  static String curve(
      String title,
      String yTitle,
      List<EpochRecord> epochs,
      ToDoubleFunction<EpochRecord> train,
      ToDoubleFunction<EpochRecord> validation,
      boolean unitRange,
      int bestEpoch) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("epoch")
            .yAxisTitle(yTitle)
            .build();
    style(chart.getStyler());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setMarkerSize(7);
    chart.getStyler().setXAxisDecimalPattern("0");
    chart.getStyler().setYAxisDecimalPattern("#0.0##");
    if (unitRange) {
      chart.getStyler().setYAxisMin(0.0);
      chart.getStyler().setYAxisMax(1.0);
      chart.getStyler().setYAxisDecimalPattern("0.0");
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    }
    boolean any = addSeries(chart, "training", TRAIN, epochs, train);
    any |= addSeries(chart, "validation", VALID, epochs, validation);
    if (any && bestEpoch >= 1 && epochs.size() > 1) {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (EpochRecord r : epochs) {
        for (double v : new double[] {train.applyAsDouble(r), validation.applyAsDouble(r)}) {
          if (Double.isFinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
      }
      if (unitRange) {
        lo = 0;
        hi = 1;
      }
      var best =
          chart.addSeries(
              "best epoch (" + bestEpoch + ")",
              List.of((double) bestEpoch, (double) bestEpoch),
              List.of(lo, hi));
      best.setLineColor(BEST);
      best.setLineStyle(
          new java.awt.BasicStroke(
              1.5f,
              java.awt.BasicStroke.CAP_BUTT,
              java.awt.BasicStroke.JOIN_MITER,
              10f,
              new float[] {5f, 4f},
              0f));
      best.setMarker(SeriesMarkers.NONE);
    }
    return any ? png(chart) : null;
  }

  private static boolean addSeries(
      XYChart chart,
      String name,
      Color color,
      List<EpochRecord> epochs,
      ToDoubleFunction<EpochRecord> f) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (EpochRecord r : epochs) {
      double v = f.applyAsDouble(r);
      if (Double.isFinite(v)) {
        xs.add((double) r.epoch());
        ys.add(v);
      }
    }
    if (xs.isEmpty()) {
      return false;
    }
    var s = chart.addSeries(name, xs, ys);
    s.setLineColor(color);
    s.setMarkerColor(color);
    s.setMarker(SeriesMarkers.CIRCLE);
    return true;
  }

  /**
   * The learning-rate range test: loss (raw and smoothed) against the rate on a log axis, the
   * suggested rate marked by a vertical line.
   */
  static String rateCurve(double[] rates, double[] losses, double[] smoothed, double suggestion) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Learning-rate finder")
            .xAxisTitle("learning rate (log scale)")
            .yAxisTitle("loss")
            .build();
    style(chart.getStyler());
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setXAxisDecimalPattern("0.0E0");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setMarkerSize(3);
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : smoothed) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    var raw = chart.addSeries("minibatch loss", rates, losses);
    raw.setLineColor(new Color(0xc7, 0xd7, 0xe8));
    raw.setMarker(SeriesMarkers.NONE);
    var sm = chart.addSeries("smoothed", rates, smoothed);
    sm.setLineColor(TRAIN);
    sm.setMarker(SeriesMarkers.NONE);
    var s =
        chart.addSeries(
            String.format(java.util.Locale.ROOT, "suggested %.1e", suggestion),
            new double[] {suggestion, suggestion},
            new double[] {lo, hi});
    s.setLineColor(BEST);
    s.setMarker(SeriesMarkers.NONE);
    chart.getStyler().setYAxisMin(Math.max(0, lo - 0.1 * (hi - lo)));
    chart.getStyler().setYAxisMax(hi);
    return png(chart);
  }

  /** Grouped bars: one group per category, one bar per series; values in [0, 1]. */
  static String bars(
      String title, String yTitle, List<String> categories, Map<String, List<Double>> series) {
    int width =
        Math.max(WIDTH, Math.min(1100, 90 + categories.size() * 28 * Math.max(1, series.size())));
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(width)
            .height(HEIGHT)
            .title(title)
            .yAxisTitle(yTitle)
            .build();
    style(chart.getStyler());
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(1.0);
    chart.getStyler().setYAxisDecimalPattern("0.0");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setAvailableSpaceFill(0.8);
    int i = 0;
    for (Map.Entry<String, List<Double>> e : series.entrySet()) {
      List<Double> ys = new ArrayList<>();
      for (Double v : e.getValue()) {
        ys.add(v == null || !Double.isFinite(v) ? 0.0 : v);
      }
      chart.addSeries(e.getKey(), categories, ys).setFillColor(PALETTE[i++ % PALETTE.length]);
    }
    return png(chart);
  }

  private static void style(Styler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderVisible(false);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    s.setLegendBorderColor(Color.LIGHT_GRAY);
    s.setAntiAlias(true);
  }

  private static String png(Chart<?, ?> chart) {
    try {
      byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
      return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("could not render chart '" + chart.getTitle() + "'", e);
    }
  }
}
