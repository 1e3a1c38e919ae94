"""vireid.evaluation"""
