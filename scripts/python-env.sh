# Shared by scripts/test and scripts/demo (sourced): apt_install, and $python, a Python that
# takes pip installs (the system's, or .venv where Debian's refuses them).

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): $* missing; run as root or: sudo apt-get install -y $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

command -v python3 >/dev/null 2>&1 || apt_install python3

# Debian's own python3 has no pip and takes no pip installs outside a virtual environment
# (PEP 668): there replydesk (and, for the tests, its test extras) goes into .venv.
python=python3
if ! python3 -c '
import importlib.util, os, sys, sysconfig
managed = sys.prefix == sys.base_prefix and os.path.exists(
    os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(1 if managed or importlib.util.find_spec("pip") is None else 0)'; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv >/dev/null 2>&1 || { rm -rf .venv; apt_install python3-venv; python3 -m venv .venv; }
  fi
  python=.venv/bin/python
fi


# pip_install TARGET SPEC: `pip install -e SPEC` unless the last install of TARGET still holds
# (scripts/install_state.py: pyproject.toml, the version, the Python and where its replydesk points
# are unchanged). The install is editable, so the checkout's code runs either way; what a reinstall
# refreshes is the metadata (dependencies, entry points, version).
pip_install() {
  local target=$1 spec=$2 reason
  if reason=$("$python" scripts/install_state.py check "$target"); then
    return 0
  fi
  echo "$(basename "$0"): installing $spec ($reason)" >&2
  "$python" -m pip install -q --disable-pip-version-check -e "$spec"
  "$python" scripts/install_state.py record "$target"
}
