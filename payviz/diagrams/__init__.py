"""What is drawn, as data: topology, node state, sequence and exports. No widgets."""
