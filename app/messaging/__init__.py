from flask import Blueprint

bp = Blueprint("messaging", __name__, template_folder="templates")
