"""The ROS 2 shell: thin nodes that wire parameters, topics, services and actions to the core.

fleet/ (server, tier coordinator, client, robot group), perception/ (cameras, replay, inference),
pick/ (the PickGrasp executor and its clients); runtime.py is every node process's main,
parameters.py declares a dataclass as ROS parameters, blob_transport.py moves signed model blobs
over services, qos.py holds the shared QoS.
"""
