"""vireid.training"""
