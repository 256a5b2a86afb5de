# Installs a folder's pinned npm packages (`npm ci`) unless they are
# installed from the same package-lock.json already, so that CI can install
# them early, beside the build, and the test scripts find them ready.

npm_packages() {
  local dir=$1 stamp wanted
  stamp="$dir/node_modules/.modelrun-lock.sha256"
  wanted=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" > "$stamp"
  fi
}
