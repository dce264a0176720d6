from flask import Blueprint

bp = Blueprint("careplan", __name__, template_folder="templates")
