package dev.graft.io;

/**
 * Text from untrusted files (labels, file and folder names, entries, messages that quote them) made
 * safe for a terminal or a log line: control characters are escaped, so an ESC sequence, a carriage
 * return or a newline in a name cannot recolour the terminal or forge a line, and a line is capped,
 * so a refusal quoting a huge value stays readable.
 *
 * <pre>{@code
 * err.println(SafeText.line("graft: error: " + e.getMessage(), SafeText.MAX_LINE));
 * }</pre>
 */
public final class SafeText {
  /** Longest line printed for one message, in characters (about 1 KB). */
  public static final int MAX_LINE = 1024;

  private SafeText() {}

  /** Whether {@code s} holds a control character (C0, DEL or C1). */
  public static boolean hasControl(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      if (isControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code s} with every control character escaped ({@code \n}, {@code \r}, {@code \t}, {@code
   * \\u001b}).
   */
  public static String escape(CharSequence s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!isControl(c)) {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out == null ? s.toString() : out.toString();
  }

  /** {@code s} escaped and cut to at most {@code max} characters, marking the cut. */
  public static String line(CharSequence s, int max) {
    String e = escape(s);
    if (e.length() <= max) {
      return e;
    }
    String tail = "... (" + (e.length() - max) + " more characters)";
    return e.substring(0, Math.max(0, max - tail.length())) + tail;
  }

  private static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7f && c < 0xa0);
  }
}
