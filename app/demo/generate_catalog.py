"""What `flask demo generate` picks from: names, towns, medicines, tests, goals and the words of
messages. Plain data, so the generator reads as the shape of a CCO and this as its vocabulary."""

from __future__ import annotations

from app.careplan.items.models import Area, ReferralNeed
from app.messaging.models import Topic
from app.team.models import CareRole, Discipline, OrganizationKind

GIVEN_EN = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "William",
    "Harper",
    "Benjamin",
    "Evelyn",
    "Lucas",
    "Abigail",
    "Henry",
    "Emily",
    "Theodore",
    "Ella",
    "Jack",
    "Avery",
    "Levi",
    "Scarlett",
    "Alexander",
    "Grace",
    "Mason",
    "Chloe",
    "Michael",
    "Lily",
    "Ethan",
    "Aria",
    "Daniel",
    "Nora",
    "Logan",
    "Hazel",
    "Owen",
    "Riley",
    "Samuel",
    "Zoe",
    "Joseph",
    "Linda",
    "Robert",
    "Patricia",
    "John",
    "Barbara",
    "David",
    "Susan",
    "Richard",
    "Karen",
    "Thomas",
    "Nancy",
    "Charles",
    "Betty",
    "Gary",
    "Dorothy",
]
GIVEN_ES = [
    "Sofía",
    "Mateo",
    "Valentina",
    "Santiago",
    "Camila",
    "Sebastián",
    "Isabella",
    "Diego",
    "Lucía",
    "Alejandro",
    "Ximena",
    "Emiliano",
    "Mariana",
    "Leonardo",
    "Daniela",
    "Gabriel",
    "Gabriela",
    "Andrés",
    "Fernanda",
    "Javier",
    "Rosa",
    "José",
    "Carmen",
    "Luis",
    "Guadalupe",
    "Miguel",
    "Elena",
    "Jorge",
    "Teresa",
    "Carlos",
    "Ana",
    "Francisco",
]
GIVEN_OTHER = [
    "Minh",
    "Linh",
    "Anh",
    "Tuan",
    "Olga",
    "Dmitri",
    "Irina",
    "Wei",
    "Mei",
    "Jun",
    "Ahmed",
    "Fatima",
    "Amina",
    "Omar",
]
FAMILY_EN = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
]
FAMILY_ES = [
    "García",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Gutiérrez",
    "Ortiz",
    "Chávez",
    "Ramos",
    "Mendoza",
    "Vargas",
    "Castillo",
]
FAMILY_OTHER = [
    "Nguyen",
    "Tran",
    "Pham",
    "Ivanov",
    "Petrova",
    "Chen",
    "Wang",
    "Li",
    "Hassan",
    "Ali",
    "Ibrahim",
    "Yusuf",
]

#: (language, share of patients): the CCO's languages of care.
LANGUAGES = (("en", 0.74), ("es", 0.20), ("vi", 0.02), ("ru", 0.02), ("zh", 0.02))

TOWNS = [
    "Salem",
    "Albany",
    "Corvallis",
    "Eugene",
    "Woodburn",
    "Silverton",
    "Keizer",
    "Dallas",
    "Monmouth",
    "Independence",
    "Stayton",
    "Lebanon",
    "Sweet-Home",
    "Newberg",
    "McMinnville",
    "Canby",
    "Molalla",
    "Mt.-Angel",
    "Aumsville",
    "Jefferson",
]

#: How many patients one organization of each kind serves, and how its names end.
ORG_KINDS = {
    OrganizationKind.PRIMARY_CARE: (
        2500,
        ("Family Clinic", "Community Health Center", "Medical Group"),
    ),
    OrganizationKind.BEHAVIORAL_HEALTH: (8000, ("Behavioral Health", "Counseling Center")),
    OrganizationKind.PHARMACY: (5000, ("Pharmacy", "Community Pharmacy")),
    OrganizationKind.DENTAL: (6000, ("Dental", "Family Dentistry")),
    OrganizationKind.SPECIALTY: (8000, ("Heart and Vascular", "Diabetes Center", "Orthopedics")),
    OrganizationKind.SOCIAL_SERVICES: (15000, ("Community Connections", "Family Resource Center")),
}

#: One line per kind of staff: patients per member, share of patients whose team has one,
#: the kind of organization they work for, and their titles.
STAFF = {
    "coordinator": (1000, 1.0, OrganizationKind.PRIMARY_CARE, ("RN Care Coordinator",)),
    Discipline.NURSING: (2000, 0.35, OrganizationKind.PRIMARY_CARE, ("Registered Nurse", "LPN")),
    Discipline.PRIMARY_CARE: (
        1500,
        1.0,
        OrganizationKind.PRIMARY_CARE,
        ("Family Physician", "Nurse Practitioner", "Physician Assistant"),
    ),
    Discipline.PHARMACY: (2500, 1.0, OrganizationKind.PHARMACY, ("Clinical Pharmacist",)),
    Discipline.DENTAL: (2000, 0.9, OrganizationKind.DENTAL, ("Dentist", "Dental Hygienist")),
    Discipline.SOCIAL_SERVICES: (
        800,
        0.6,
        OrganizationKind.SOCIAL_SERVICES,
        ("Community Health Worker", "Peer Support Specialist", "Social Worker"),
    ),
    Discipline.BEHAVIORAL_HEALTH: (
        600,
        0.5,
        OrganizationKind.BEHAVIORAL_HEALTH,
        ("Licensed Clinical Social Worker", "Psychologist", "Counselor"),
    ),
    Discipline.SPECIALTY: (
        800,
        0.5,
        OrganizationKind.SPECIALTY,
        ("Cardiologist", "Endocrinologist", "Orthopedic Surgeon"),
    ),
}

#: The role each generated title holds (shown translated, the title under it when it adds).
TITLE_ROLES = {
    "RN Care Coordinator": CareRole.CARE_COORDINATOR,
    "Registered Nurse": CareRole.NURSE,
    "LPN": CareRole.NURSE,
    "Family Physician": CareRole.PHYSICIAN,
    "Nurse Practitioner": CareRole.NURSE_PRACTITIONER,
    "Physician Assistant": CareRole.PHYSICIAN_ASSISTANT,
    "Clinical Pharmacist": CareRole.PHARMACIST,
    "Dentist": CareRole.DENTIST,
    "Dental Hygienist": CareRole.DENTAL_HYGIENIST,
    "Community Health Worker": CareRole.COMMUNITY_HEALTH_WORKER,
    "Peer Support Specialist": CareRole.PEER_SUPPORT,
    "Social Worker": CareRole.SOCIAL_WORKER,
    "Licensed Clinical Social Worker": CareRole.SOCIAL_WORKER,
    "Psychologist": CareRole.COUNSELOR,
    "Counselor": CareRole.COUNSELOR,
    "Cardiologist": CareRole.SPECIALIST,
    "Endocrinologist": CareRole.SPECIALIST,
    "Orthopedic Surgeon": CareRole.SPECIALIST,
}

# name, dose, ingredient, (area is always medicines)
MEDICATIONS = (
    ("Metformin", "500 mg twice a day", "metformin"),
    ("Lisinopril", "10 mg once a day", "lisinopril"),
    ("Atorvastatin", "20 mg at bedtime", "atorvastatin"),
    ("Amlodipine", "5 mg once a day", "amlodipine"),
    ("Levothyroxine", "50 mcg before breakfast", "levothyroxine"),
    ("Albuterol inhaler", "2 puffs when needed", "albuterol"),
    ("Sertraline", "50 mg once a day", "sertraline"),
    ("Omeprazole", "20 mg before breakfast", "omeprazole"),
    ("Furosemide", "20 mg in the morning", "furosemide"),
    ("Gabapentin", "300 mg three times a day", "gabapentin"),
    ("Insulin glargine", "20 units at bedtime", "insulin glargine"),
    ("Losartan", "50 mg once a day", "losartan"),
    ("Montelukast", "10 mg at bedtime", "montelukast"),
    ("Fluoxetine", "20 mg once a day", "fluoxetine"),
    ("Vitamin D", "1000 IU once a day", "cholecalciferol"),
    ("Aspirin", "81 mg once a day", "aspirin"),
    ("Carvedilol", "6.25 mg twice a day", "carvedilol"),
    ("Fluticasone nasal spray", "1 spray each side daily", "fluticasone"),
    ("Acetaminophen", "500 mg when needed, up to 6 a day", "acetaminophen"),
    ("Prenatal vitamins", "1 tablet once a day", "prenatal multivitamin"),
)
#: Medicines whose items are sensitive: (name, dose, ingredient, sensitivity).
SENSITIVE_MEDICATIONS = (
    ("Buprenorphine-naloxone", "8 mg/2 mg once a day", "buprenorphine", "substance_use"),
    ("Naloxone nasal spray", "Keep one at home", "naloxone", "substance_use"),
    ("Birth control pill", "1 tablet once a day", "norethindrone", "sexual_reproductive"),
    ("Bupropion", "150 mg in the morning", "bupropion", "behavioral_health"),
)

# title, discipline, location kind
APPOINTMENTS = (
    ("Check-up with your doctor", Discipline.PRIMARY_CARE, Area.PHYSICAL_HEALTH),
    ("Diabetes check-up", Discipline.PRIMARY_CARE, Area.PHYSICAL_HEALTH),
    ("Teeth cleaning", Discipline.DENTAL, Area.TEETH),
    ("Counseling session", Discipline.BEHAVIORAL_HEALTH, Area.EMOTIONAL_HEALTH),
    ("Heart check-up", Discipline.SPECIALTY, Area.PHYSICAL_HEALTH),
    ("Medicine review with your pharmacist", Discipline.PHARMACY, Area.MEDICINES),
    ("Home visit from your community health worker", Discipline.SOCIAL_SERVICES, Area.DAILY_LIVING),
    ("Nurse visit", Discipline.NURSING, Area.PHYSICAL_HEALTH),
)
# title, schedule, area
TASKS = (
    ("Walk for 20 minutes", "daily", Area.PHYSICAL_HEALTH),
    ("Check your blood sugar", "daily", Area.PHYSICAL_HEALTH),
    ("Weigh yourself", "daily", Area.PHYSICAL_HEALTH),
    ("Brush and floss", "daily", Area.TEETH),
    ("Fill your pill box", "weekly", Area.MEDICINES),
    ("Call a friend", "weekly", Area.EMOTIONAL_HEALTH),
    ("Plan the week's meals", "weekly", Area.HOME_FOOD_TRANSPORT),
    ("Bring your medicine list to the pharmacy", "once", Area.MEDICINES),
    ("Sign up for the bus pass", "once", Area.HOME_FOOD_TRANSPORT),
    ("Breathing exercise before bed", "daily", Area.EMOTIONAL_HEALTH),
)
# title, code system, code, discipline
TESTS = (
    ("A1c blood test", "LOINC", "4548-4", Discipline.PRIMARY_CARE),
    ("Cholesterol test", "LOINC", "57698-3", Discipline.PRIMARY_CARE),
    ("Kidney function test", "LOINC", "24362-6", Discipline.PRIMARY_CARE),
    ("Urine test", "LOINC", "24356-8", Discipline.PRIMARY_CARE),
    ("Chest X-ray", "CPT", "71046", Discipline.PRIMARY_CARE),
    ("Mammogram", "CPT", "77067", Discipline.PRIMARY_CARE),
    ("Colonoscopy", "CPT", "45378", Discipline.SPECIALTY),
    ("Heart ultrasound", "CPT", "93306", Discipline.SPECIALTY),
    ("Dental X-rays", "CPT", "D0210", Discipline.DENTAL),
    ("Depression screening", "LOINC", "44249-1", Discipline.BEHAVIORAL_HEALTH),
)
# title, need, referred to, discipline, area
REFERRALS = (
    (
        "Food box program",
        ReferralNeed.FOOD,
        "Marion-Polk Food Share",
        Discipline.SOCIAL_SERVICES,
        Area.HOME_FOOD_TRANSPORT,
    ),
    (
        "Help finding housing",
        ReferralNeed.HOUSING,
        "Salem Housing Authority",
        Discipline.SOCIAL_SERVICES,
        Area.HOME_FOOD_TRANSPORT,
    ),
    (
        "Rides to appointments",
        ReferralNeed.TRANSPORT,
        "Cherriots Rides",
        Discipline.SOCIAL_SERVICES,
        Area.HOME_FOOD_TRANSPORT,
    ),
    (
        "Help with energy bills",
        ReferralNeed.UTILITIES,
        "Mid-Willamette Valley Community Action",
        Discipline.SOCIAL_SERVICES,
        Area.HOME_FOOD_TRANSPORT,
    ),
    (
        "See a heart specialist",
        ReferralNeed.CLINICAL,
        "Salem Heart and Vascular",
        Discipline.PRIMARY_CARE,
        Area.PHYSICAL_HEALTH,
    ),
    (
        "Physical therapy",
        ReferralNeed.CLINICAL,
        "Willamette Physical Therapy",
        Discipline.PRIMARY_CARE,
        Area.PHYSICAL_HEALTH,
    ),
    (
        "Recovery support group",
        ReferralNeed.CLINICAL,
        "Bridgeway Recovery Services",
        Discipline.BEHAVIORAL_HEALTH,
        Area.EMOTIONAL_HEALTH,
    ),
)
# title, url, area
EDUCATION = (
    ("Learn about diabetes", "https://medlineplus.gov/diabetes.html", Area.PHYSICAL_HEALTH),
    (
        "Eating well on a budget",
        "https://www.myplate.gov/eat-healthy/healthy-eating-budget",
        Area.HOME_FOOD_TRANSPORT,
    ),
    (
        "Managing high blood pressure",
        "https://medlineplus.gov/highbloodpressure.html",
        Area.PHYSICAL_HEALTH,
    ),
    ("Coping with stress", "https://medlineplus.gov/stress.html", Area.EMOTIONAL_HEALTH),
    (
        "Taking your medicines safely",
        "https://medlineplus.gov/medicationerrors.html",
        Area.MEDICINES,
    ),
    ("Caring for your teeth", "https://medlineplus.gov/toothdisorders.html", Area.TEETH),
)

# description, target text, target value, unit, higher is better, sensitivity
GOALS = (
    ("Walk every day", "Walk to the park and back", 5000.0, "steps", True, None),
    ("Get my blood sugar down", "A1c under 7", 7.0, "%", False, None),
    ("Sleep better", "Sleep 7 hours a night", 7.0, "hours", True, None),
    ("Eat more vegetables", "Vegetables 5 days a week", 5.0, "days", True, None),
    ("Feel less stressed", "Stress 3 or less out of 10", 3.0, "of 10", False, "behavioral_health"),
    ("Lose some weight", "Lose 10 pounds", 180.0, "lb", False, None),
    ("Play with my grandkids", "Play outside every weekend", None, None, None, None),
    ("Stop smoking", "No cigarettes for a month", 0.0, "a day", False, "substance_use"),
)
CHECK_IN_NOTES = (
    "Good week.",
    "Hard week, but I kept going.",
    "Felt tired.",
    "Better than last time!",
    None,
    None,
    None,
)

DECISIONS = (
    (
        "How do you want to treat your knee pain?",
        ("Physical therapy", "A steroid shot"),
    ),
    (
        "Should we start a medicine for your mood?",
        ("Start a medicine", "Counseling first"),
    ),
    (
        "Where do you want to get your care after the hospital?",
        ("At home with visits", "A rehab center"),
    ),
)

#: What each side writes, by topic: (subjects, patient lines, team lines), in English and
#: Spanish.
MESSAGES = {
    "en": {
        Topic.MEDICATION: (
            ("Question about my pills", "Refill question", "Side effects?"),
            (
                "Can I take this with food?",
                "I am almost out of my pills. Can you send a refill?",
                "This new medicine makes me dizzy. Is that normal?",
            ),
            (
                "Yes, take it with breakfast.",
                "I sent the refill to your pharmacy. It will be ready tomorrow.",
                "Some dizziness is common at first. Stand up slowly, and tell us if it lasts.",
            ),
        ),
        Topic.APPOINTMENT: (
            ("Changing my appointment", "Ride to my visit", "Next check-up"),
            (
                "I can't come on Tuesday. Can we move it?",
                "Do I need to bring anything?",
                "I need a ride to my appointment.",
            ),
            (
                "We moved it to Thursday at 10. See you then!",
                "Bring your medicines and your insurance card.",
                "I booked a ride for you. They will call the day before.",
            ),
        ),
        Topic.SYMPTOMS: (
            ("Not feeling well", "My ankles are swollen", "Headaches"),
            (
                "I have had a headache for three days.",
                "My ankles look more swollen this week.",
                "I feel more tired than usual.",
            ),
            (
                "Thank you for telling us. Can you come in tomorrow morning?",
                "Please weigh yourself today and send us the number.",
                "If it gets worse, call us or go to urgent care.",
            ),
        ),
        Topic.CARE_PLAN: (
            ("About my plan", "My goals"),
            ("What does this new item in my plan mean?", "Can we change my walking goal?"),
            ("Good question! It is a test your doctor wants.", "Yes, let's talk at your visit."),
        ),
        Topic.SOCIAL_NEEDS: (
            ("Help with food", "Rent this month", "Help with bills"),
            (
                "We are short on food this week.",
                "I can't pay the rent this month. Is there help?",
                "My power bill is very high.",
            ),
            (
                "I signed you up for the food box program.",
                "There is a rent assistance program. I will call you today.",
                "I sent a referral for energy bill help.",
            ),
        ),
        Topic.BILLING: (
            ("A bill I got",),
            ("I got a bill for my last visit. Do I have to pay it?",),
            ("No, that is covered. We will call the clinic.",),
        ),
        Topic.OTHER: (
            ("A question", "Thank you"),
            ("Can you send me my shot records?", "Thank you for your help!"),
            ("Sure, I will send them today.", "You're welcome!"),
        ),
    },
    "es": {
        Topic.MEDICATION: (
            ("Pregunta sobre mis pastillas", "Resurtido"),
            (
                "¿Puedo tomarla con comida?",
                "Ya casi no tengo pastillas. ¿Me pueden mandar más?",
            ),
            (
                "Sí, tómela con el desayuno.",
                "Mandé la receta a su farmacia. Estará lista mañana.",
            ),
        ),
        Topic.APPOINTMENT: (
            ("Cambiar mi cita", "Transporte a mi cita"),
            ("No puedo ir el martes. ¿Podemos cambiarla?", "Necesito transporte para mi cita."),
            ("La cambiamos al jueves a las 10.", "Le reservé el transporte."),
        ),
        Topic.SYMPTOMS: (
            ("No me siento bien", "Dolor de cabeza"),
            ("Tengo dolor de cabeza desde hace tres días.", "Me siento más cansada que antes."),
            ("Gracias por avisarnos. ¿Puede venir mañana?", "Si empeora, llámenos."),
        ),
        Topic.CARE_PLAN: (
            ("Sobre mi plan",),
            ("¿Qué significa esto nuevo en mi plan?",),
            ("Es un examen que quiere su doctor.",),
        ),
        Topic.SOCIAL_NEEDS: (
            ("Ayuda con comida", "Ayuda con la renta"),
            ("Esta semana no tenemos suficiente comida.", "¿Hay ayuda para pagar la renta?"),
            ("La inscribí en el programa de comida.", "Hay un programa. La llamo hoy."),
        ),
        Topic.BILLING: (
            ("Una factura",),
            ("Me llegó una factura. ¿Tengo que pagarla?",),
            ("No, está cubierta. Vamos a llamar a la clínica.",),
        ),
        Topic.OTHER: (
            ("Una pregunta", "Gracias"),
            ("¿Me pueden mandar mis vacunas?", "¡Gracias por su ayuda!"),
            ("Claro, se las mando hoy.", "¡De nada!"),
        ),
    },
}
INTERNAL_NOTES = (
    "Called the pharmacy; refill is on hold for prior authorization.",
    "Left a voicemail.",
    "Discussed with Dr. at huddle; plan to see this week.",
)
WHAT_MATTERS = (
    "Staying in my own home.",
    "Being there for my kids.",
    "Keep working.",
    "Playing with my grandchildren.",
    "Going to church on Sundays.",
    None,
    None,
)
