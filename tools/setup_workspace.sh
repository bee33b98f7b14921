#!/usr/bin/env bash
# Idempotent set-up: .venv with the pinned requirements, Debian runtime libraries,
# the wheels' CMake paths rewritten for this machine, a colcon build of src/, and launch + the
# ros2 CLI built from ../shared/ros2-from-source where that folder exists.
# Each step is skipped when its inputs have not changed since it last succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
STAMPS=$VENV/.stamps
PY=${PYTHON:-python3.11}

die() { echo "setup: $*" >&2; exit 1; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

# One set-up at a time: two `make test`s started together in one checkout would build into the same
# venv and prefixes at once (seen: one removing the launch build the other was writing).
mkdir -p build
exec 9>build/setup.lock
flock 9

command -v "$PY" >/dev/null || die "needs Python 3.11 ('$PY' not found); set PYTHON=/path/to/python3.11"
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "needs Python 3.11, '$PY' is $("$PY" -V 2>&1) (the ROS 2 Jazzy wheels are cp311 only)"

# 1. Debian runtime libraries: libusb for pyrealsense2, OSMesa/EGL for headless MuJoCo.
DEB_PKGS="libusb-1.0-0 libosmesa6 libegl1 libgl1"
if ! dpkg -s $DEB_PKGS >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: $DEB_PKGS"
    (apt-get install -y -qq $DEB_PKGS >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $DEB_PKGS >/dev/null; }) \
      || die "apt-get could not install $DEB_PKGS (no package registry?)"
  else
    echo "setup: warning: Debian packages missing ($DEB_PKGS) and not root; MuJoCo/RealSense features may fail" >&2
  fi
fi

# 2. Virtual environment with every Python requirement, in one pip call.
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || die "could not create $VENV"
REQ_FP=$(fingerprint requirements.txt)
if ! fresh requirements "$REQ_FP"; then
  echo "setup: installing requirements.txt into .venv (first run takes ~2 minutes)"
  # (the local wheel mirrors make pip warn once per package; those lines are noise)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) \
    || die "pip could not install requirements.txt (is the package registry reachable?)"
  stamp requirements "$REQ_FP"
  rm -f "$STAMPS/cmake_paths"
fi

# 3. The wheels' exported CMake files name the wheel build machine's Python; point them here.
if ! fresh cmake_paths "$REQ_FP"; then
  PY_INC=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  NP_INC=$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')
  { grep -rlE "/opt/python/cp311-cp311" "$VENV/share" --include="*.cmake" 2>/dev/null || true; } | while read -r f; do
    sed -i -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$NP_INC#g" \
           -e "s#/opt/python/cp311-cp311/include/python3.11#$PY_INC#g" "$f"
  done
  stamp cmake_paths "$REQ_FP"
fi

# 4. colcon build, only when a package source changed.
# --symlink-install: Python sources are used in place, so only what the build itself reads counts.
SRC_FP=$( (find src/mtf_grasp_interfaces src/mtf_grasp/setup.py src/mtf_grasp/setup.cfg src/mtf_grasp/package.xml \
             colcon.meta launch config -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
if ! fresh colcon "$SRC_FP" || [ ! -f install/setup.bash ]; then
  echo "setup: colcon build"
  mkdir -p build
  (
    export PATH=$VENV/bin:$PATH
    export AMENT_PREFIX_PATH=$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}
    export CMAKE_PREFIX_PATH=$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
    "$VENV/bin/colcon" --log-base build/colcon-log build --symlink-install --metas colcon.meta \
      --event-handlers console_cohesion- status- summary+ >build/colcon.out 2>&1 \
      || { tail -40 build/colcon.out >&2; die "colcon build failed (full log: build/colcon.out)"; }
  ) || exit 1
  stamp colcon "$SRC_FP"
fi
# 5. launch, launch_pytest and the ros2 CLI: no registry serves them, so they are built from the
#    upstream Jazzy sources beside the clone (../shared/ros2-from-source, see its SOURCES.md) into the
#    venv, against the wheels it was built with. Where that folder is absent, tests/launch skips.
R2_SRC=${ROS2_FROM_SOURCE:-$ROOT/../shared/ros2-from-source}
R2_PREFIX=$VENV/ros2-from-source
if [ -f "$R2_SRC/build.sh" ]; then
  R2_FP=$( (echo "$REQ_FP"; cd "$R2_SRC" && find . -type f -not -path './.git/*' -print0 | sort -z | xargs -0 sha256sum) \
           | sha256sum | cut -d' ' -f1)
  if ! fresh ros2_from_source "$R2_FP" || [ ! -f "$R2_PREFIX/setup.bash" ]; then
    echo "setup: building launch and the ros2 CLI from $(realpath "$R2_SRC") (about a minute)"
    rm -rf "$R2_PREFIX"
    ( . "$VENV/bin/activate" && bash "$R2_SRC/build.sh" "$R2_PREFIX" ) >build/ros2-from-source.out 2>&1 \
      || { tail -30 build/ros2-from-source.out >&2; die "building $R2_SRC failed (full log: build/ros2-from-source.out)"; }
    stamp ros2_from_source "$R2_FP"
  fi
else
  echo "setup: no $R2_SRC: no ros2 CLI or launch here, tests/launch will be skipped"
fi
echo "setup: ready (source tools/env.sh to use the workspace in a shell)"
