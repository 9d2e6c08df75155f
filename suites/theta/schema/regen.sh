#!/usr/bin/env bash
# Regenerates ./generated from theta.fbs with Debian's flatc 2.0.8
# (apt-get install flatbuffers-compiler). flatc's TypeScript imports lack the
# `.js` extension that NodeNext resolution and plain Node need; they are added
# here, and the files are marked `@ts-nocheck` (flatc leaves unused imports,
# which the project's `noUnusedLocals` rejects; the exported types still flow).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf generated
flatc --ts --gen-object-api -o generated theta.fbs
find generated -name '*.ts' -print0 | xargs -0 sed -i -E "s#(from '\.\.?/[^']+)';#\1.js';#; 1s#^#// @ts-nocheck\n#"
echo "generated:"; find generated -name '*.ts' | sort
