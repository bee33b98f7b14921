"""grasping"""
