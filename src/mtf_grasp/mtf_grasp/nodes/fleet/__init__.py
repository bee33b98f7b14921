"""The fleet's nodes (fl_server, tier_coordinator, fl_client, robot_group) and what they share: names and QoS, parameters, transport, inbox, plan following, audits and receipts, records."""
