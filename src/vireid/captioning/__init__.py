"""vireid.captioning"""
