"""grasp_executor (the PickGrasp action server) and its clients: the pick action and the pose-goal contract with a real arm driver."""
