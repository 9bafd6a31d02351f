package dev.graft.data;

import dev.graft.error.GraftException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an image of any shape reaches the square input of a base: {@link #CENTER_CROP} (the default),
 * {@link #STRETCH}, or {@link #pad(double, Pad.Fill)} (letterbox).
 *
 * <pre>{@code
 * ResizeMode.CENTER_CROP;
 * ResizeMode.pad();                                  // fit inside, the edge pixels extended
 * ResizeMode.pad(0.1, ResizeMode.Pad.Fill.rgb(0, 0, 0));  // 10 % margin on each side, black
 * }</pre>
 *
 * <p>A mode is recorded in the model file by {@link #name()} and read back by {@link #parse}, so
 * prediction brings images to the input exactly as training did.
 */
public sealed interface ResizeMode
    permits ResizeMode.CenterCrop, ResizeMode.Stretch, ResizeMode.Pad {

  /**
   * The shorter side is resized to the input size and the centre square is kept (the default; what
   * Keras and torchvision evaluation pipelines do). Keeps the aspect ratio, loses the edges.
   */
  ResizeMode CENTER_CROP = new CenterCrop();

  /** The whole image is resized to the square, distorting the aspect ratio; nothing is lost. */
  ResizeMode STRETCH = new Stretch();

  /** The crop mode. */
  record CenterCrop() implements ResizeMode {
    @Override
    public String name() {
      return "CENTER_CROP";
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** The stretch mode. */
  record Stretch() implements ResizeMode {
    @Override
    public String name() {
      return "STRETCH";
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /**
   * Letterbox: the whole image, aspect ratio kept, is shrunk (or grown) to fit inside the square
   * less a margin, centred, and the rest filled. Nothing is cropped or distorted; what bases
   * trained on centred objects with a border (digits, for one) expect.
   *
   * @param margin fraction of the side left free on each side, in [0, 0.5)
   * @param fill what fills the border
   */
  record Pad(double margin, Fill fill) implements ResizeMode {
    /** Validates. */
    public Pad {
      if (!(margin >= 0 && margin < 0.5)) {
        throw new GraftException("pad margin must be in [0, 0.5), got " + margin);
      }
      if (fill == null) {
        throw new GraftException("pad fill must be the edge or a colour, got null");
      }
    }

    /**
     * What fills the border: the image's edge pixels extended outwards, or one colour.
     *
     * @param edge whether the edge pixels are extended ({@code rgb} then unused)
     * @param rgb the colour, {@code 0xRRGGBB}
     */
    public record Fill(boolean edge, int rgb) {
      /** Validates the colour. */
      public Fill {
        if (rgb < 0 || rgb > 0xFFFFFF) {
          throw new GraftException("pad colour must be 0xRRGGBB, got " + Integer.toHexString(rgb));
        }
      }

      /** The edge pixels extended. */
      public static Fill extendEdge() {
        return new Fill(true, 0);
      }

      /** One colour, each channel in [0, 255]. */
      public static Fill rgb(int r, int g, int b) {
        for (int v : List.of(r, g, b)) {
          if (v < 0 || v > 255) {
            throw new GraftException(
                "pad colour channels must be in [0, 255], got " + r + "," + g + "," + b);
          }
        }
        return new Fill(false, r << 16 | g << 8 | b);
      }

      @Override
      public String toString() {
        return edge ? "edge" : String.format(Locale.ROOT, "#%06x", rgb);
      }
    }

    /** {@code PAD(margin=M,fill=edge|#rrggbb)}. */
    @Override
    public String name() {
      return "PAD(margin=" + margin + ",fill=" + fill + ")";
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Letterbox with no margin, the edge extended. */
  static ResizeMode pad() {
    return new Pad(0, Pad.Fill.extendEdge());
  }

  /** Letterbox with {@code margin} on each side (a fraction of the side) and {@code fill}. */
  static ResizeMode pad(double margin, Pad.Fill fill) {
    return new Pad(margin, fill);
  }

  /**
   * The form recorded in model files: {@code CENTER_CROP}, {@code STRETCH} or {@code
   * PAD(margin=0.1,fill=edge)}.
   */
  String name();

  /**
   * Reads a mode: what {@link #name()} writes, or the command-line spellings {@code center-crop}
   * ({@code crop}), {@code stretch}, {@code pad}.
   *
   * @throws GraftException naming the value when it is none of them
   */
  static ResizeMode parse(String s) {
    String v = s == null ? "" : s.trim();
    String key = v.toLowerCase(Locale.ROOT).replace('_', '-');
    switch (key) {
      case "center-crop", "crop":
        return CENTER_CROP;
      case "stretch":
        return STRETCH;
      case "pad", "letterbox":
        return pad();
      default:
        break;
    }
    Matcher m =
        Pattern.compile("(?i)PAD\\(margin=([0-9.eE+-]{1,20}),fill=(edge|#[0-9a-fA-F]{6})\\)")
            .matcher(v);
    if (m.matches()) {
      double margin;
      try {
        margin = Double.parseDouble(m.group(1));
      } catch (NumberFormatException e) {
        throw new GraftException("resize: bad pad margin in '" + v + "'");
      }
      String f = m.group(2);
      Pad.Fill fill =
          f.equalsIgnoreCase("edge")
              ? Pad.Fill.extendEdge()
              : new Pad.Fill(false, Integer.parseInt(f.substring(1), 16));
      return new Pad(margin, fill);
    }
    throw new GraftException(
        "resize: expected center-crop, stretch or pad, got '"
            + (v.length() > 60 ? v.substring(0, 60) + "..." : v)
            + "'");
  }
}
