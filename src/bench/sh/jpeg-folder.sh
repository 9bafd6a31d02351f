# Sourced by the benchmark scripts: makes $images, a class-folder dataset of colour JPEGs
# (dev.graft.bench.JpegFolder, 10 classes), under $work, unless it is there, and counts them in $n.
#   jpeg_folder PER_CLASS SIDE
jpeg_folder() {
  local cp_file=target/bench.cp
  [ -f "$cp_file" ] || { echo "run: mvn -B -q -Pbench test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test" >&2; exit 2; }
  images=$work/images
  [ -d "$images" ] || java -cp "target/test-classes:target/classes:$(cat $cp_file)" dev.graft.bench.JpegFolder "$images" "$1" "$2"
  n=$(find "$images" -name '*.jpg' | wc -l)
}
