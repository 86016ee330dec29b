#!/bin/sh
# The app: prints its configuration. Run by the image's cmd with /bin/sh.
echo "app ok: $(cat /app/config/app.conf) mode=$APP_MODE cwd=$PWD"
