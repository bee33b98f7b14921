"""`make demo` (tools/demo.sh) after the fleet has learned: serve its final model on a replay of
held-out scenes and keep grasp_inference's annotated images (`serve`, needs ROS), then draw the
accuracy per round and write the closing summary (`report`). Run by `mtf-grasp demo serve|report`.
"""
