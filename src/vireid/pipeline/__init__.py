"""vireid.pipeline"""
