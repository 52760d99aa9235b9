"""Docker environments: image build from a content hash, containers as executions."""
