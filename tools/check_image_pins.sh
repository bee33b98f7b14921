#!/usr/bin/env bash
# The unit tests under the Docker image's Python pins (numpy 1.26, OpenCV 4.11, pytest 7.4, ...):
# docker/image-requirements.sh installed into a venv of its own, laid over the workspace's .venv
# for what it does not pin there (torch, the ROS wheels). Python 3.11 here: the ROS wheels are
# cp311 only, the image has 3.12. Needs `make setup` first; pip args go to the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PINS=$ROOT/build/image-pins-venv
[ -x "$PINS/bin/python" ] || python3.11 -m venv "$PINS"
bash docker/image-requirements.sh | grep -v '^torch' > build/image-requirements.txt
"$PINS/bin/python" -m pip install -q -r build/image-requirements.txt 2> >(grep -v 'is ignored' >&2)
site=$("$PINS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$ROOT/.venv/lib/python3.11/site-packages')" > "$site/zz_workspace.pth"
set +u; . tools/env.sh; set -u    # colcon's setup.bash reads unset variables
"$PINS/bin/python" -c 'import numpy, cv2, pytest; print(f"image pins: numpy {numpy.__version__}, OpenCV {cv2.__version__}, pytest {pytest.__version__}")'
exec "$PINS/bin/python" -m pytest tests/unit "$@"
