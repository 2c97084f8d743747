#!/usr/bin/env bash
# poster.frame — farm plugin protocol v1 in the fewest lines (see docs/plugins.md).
# Reads one JSON message per line on stdin, answers one per line on stdout; logs go to stderr.
# It does one run at a time and ignores `cancel`: farm then stops it with SIGTERM after a grace period.
while IFS= read -r line; do
  field() { jq -r "$1" <<<"$line"; }
  case "$(field .type)" in
    hello) echo '{"type":"hello","protocol":1,"name":"poster","version":"1.0.0","stages":["frame"]}' ;;
    run)
      id=$(field .id) out="$(field .output_dir)/poster.png"
      echo "poster: frame at $(field .params.at) s of $(field .inputs.video)" >&2
      if ffmpeg -nostdin -loglevel error -y -ss "$(field .params.at)" -i "$(field .inputs.video)" -frames:v 1 "$out" >&2 && [ -s "$out" ]; then
        jq -cn --arg id "$id" --arg out "$out" '{type:"result", id:$id, outputs:{image:$out}}'
      else
        jq -cn --arg id "$id" '{type:"error", id:$id, message:"ffmpeg made no frame (is \"at\" past the end of the video?)"}'
      fi ;;
    shutdown) exit 0 ;;
  esac
done
