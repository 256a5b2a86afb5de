# Makes sure a venv holds the Python tools of a requirements file, and
# exports MODELRUN_MOTO_SERVER. Installs again only when the requirements
# change. Two venvs, because their tools pin conflicting packages:
#   .venv       requirements-dev.txt   moto, aiosmtpd, cargo-lambda, cfn-lint, checkov
#   .venv-fuzz  requirements-fuzz.txt  schemathesis

venv_for() {
  local venv=$1 requirements=$2 stamp wanted
  stamp="$venv/.requirements.sha256"
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
      echo "cannot create a Python venv: install python3-venv" >&2
      return 1
    }
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the Python tools of $requirements into $venv..."
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
  fi
}

ensure_venv() {
  venv_for .venv requirements-dev.txt
  export MODELRUN_MOTO_SERVER="$PWD/.venv/bin/moto_server"
}

ensure_fuzz_venv() {
  venv_for .venv-fuzz requirements-fuzz.txt
}
