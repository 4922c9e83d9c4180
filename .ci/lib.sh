# Shared by .ci/run and every .ci/servers/*.sh (sourced, never run): installs Debian packages that are
# missing, one apt-get for all of them.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
  fi
}
# A server script is run with `bash "$s"`, a new shell: export the function so one that forgets to
# source this file still finds it.
export -f apt_install
