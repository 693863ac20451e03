"""The home page of each role, and the language and 关怀版 switches."""
