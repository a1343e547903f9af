"""minigrad"""
