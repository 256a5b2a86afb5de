# Makes sure .venv holds the Python tools of requirements-dev.txt, and
# exports MODELRUN_MOTO_SERVER. Installs again only when the requirements
# change.

ensure_venv() {
  local venv=.venv stamp=.venv/.requirements.sha256 wanted
  wanted=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
      echo "cannot create a Python venv: install python3-venv" >&2
      return 1
    }
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the Python test tools into $venv..."
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$wanted" > "$stamp"
  fi
  export MODELRUN_MOTO_SERVER="$PWD/$venv/bin/moto_server"
}
