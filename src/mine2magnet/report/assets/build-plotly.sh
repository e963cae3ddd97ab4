#!/bin/sh
# Rebuild plotly-m2m.min.js.gz, the plotly.js bundle the HTML report inlines: plotly.js core (scatter),
# bar and sankey, minified with esbuild and gzipped (the report decompresses it in the browser).
# Needs node and npm (the npm registry); the report itself never downloads anything.
#   sh src/mine2magnet/report/assets/build-plotly.sh
set -eu
PLOTLY=4.1.1
ESBUILD=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "plotly.js@$PLOTLY" "esbuild@$ESBUILD"
cp "$here/plotly-entry.js" entry.js
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2018 \
  --define:global=window \
  --legal-comments=none --log-level=error --outfile=plotly.js
{
  printf '/*! plotly.js v%s (core + bar + sankey; MIT License, Copyright (c) Plotly, Inc.) */\n' "$PLOTLY"
  cat plotly.js
} | gzip -9n > "$here/plotly-m2m.min.js.gz"
cp node_modules/plotly.js/LICENSE "$here/plotly.js-LICENSE"
ls -l "$here/plotly-m2m.min.js.gz"
