// The studio's DMN editor bundle: dmn-js's Modeler built for production (window.DmnJS).
import DmnModeler from "dmn-js/lib/Modeler";

window.DmnJS = DmnModeler;
